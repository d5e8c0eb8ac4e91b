// The command reference of docs/commands.md: `dicom-edge --help` and every command's --help,
// run through the real binary so that they read exactly as they print (at 80 columns,
// as on a pipe). test/integration/cli.test.ts checks docs/commands.md still says the same.
//   node dist/scripts/cli-reference.js           prints it
//   node dist/scripts/cli-reference.js --write   puts it in docs/commands.md, in place of
//                                                the reference there (its last section)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildProgram, visibleCommandPaths } from '../firmware/cli/program';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'dicom-edge');

/** The fenced block docs/commands.md holds for one command's help. */
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

const COMMANDS_DOC = path.join(__dirname, '..', '..', 'docs', 'commands.md');
const REFERENCE_HEADING = '## Command reference';

if (require.main === module) {
  const reference = `${referencePaths().map(helpBlock).join('\n\n')}\n`;
  if (process.argv[2] === '--write') {
    const doc = readFileSync(COMMANDS_DOC, 'utf8');
    const at = doc.indexOf(REFERENCE_HEADING);
    if (at < 0) throw new Error(`${COMMANDS_DOC} has no "${REFERENCE_HEADING}"`);
    const intro = doc.slice(at).split('```text')[0];
    writeFileSync(COMMANDS_DOC, `${doc.slice(0, at)}${intro}${reference}`);
  } else process.stdout.write(reference);
}
