// Replacing a small file (the configuration, a system file the set-up writes) so that after
// a power cut it holds either the old content or the new, never a mix: a temp file beside
// it, flushed, renamed over it, and the folder flushed so that the rename itself lasts.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export async function replaceFileDurably(file: string, text: string, mode: number): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await fs.open(temp, 'w', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  const folder = await fs.open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
