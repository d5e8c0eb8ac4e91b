// Prints the README's command reference: `dicom-edge --help` and every command's --help,
// run through the real binary so that they read exactly as they print (at 80 columns,
// as on a pipe). test/integration/cli.test.ts checks the README still says the same.
//   node dist/scripts/cli-reference.js > /tmp/reference.md
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { buildProgram, visibleCommandPaths } from '../firmware/cli/program';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'dicom-edge');

/** The fenced block the README holds for one command's help. */
export function helpBlock(words: readonly string[]): string {
  const printed = execFileSync(BIN, [...words, '--help'], { encoding: 'utf8' });
  return [
    '```text',
    `$ dicom-edge ${[...words, '--help'].join(' ')}`,
    printed.trimEnd(),
    '```',
  ].join('\n');
}

export function referencePaths(): string[][] {
  return [[], ...visibleCommandPaths(buildProgram())];
}

if (require.main === module) {
  process.stdout.write(`${referencePaths().map(helpBlock).join('\n\n')}\n`);
}
