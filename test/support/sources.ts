// The product's own TypeScript sources, for tests that read the code itself (its import
// lines, its tag literals). Paths are of the checkout, found from dist/test/support.
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..', '..');
export const SOURCES = ['firmware', 'storage', 'ui-tty'];

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}
