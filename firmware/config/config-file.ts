// The configuration file on disk: read as a plain JSON document (only the keys the user
// set, so a rewrite does not freeze today's defaults into it) and replaced atomically.
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from './config';

export type ConfigDocument = Record<string, unknown>;

/** The file's JSON object; an absent file is an empty document (all defaults). */
export function readConfigDocument(file: string): ConfigDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError('(file)', `cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('(file)', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('(top level)', `${file} must hold a JSON object`);
  }
  return parsed as ConfigDocument;
}

/**
 * Replaces the file so that after a power cut it holds either the old or the new document,
 * never a mix: write a temp file beside it, fsync it, rename it over, fsync the folder.
 */
export async function writeConfigDocument(file: string, doc: ConfigDocument): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await fs.open(temp, 'w', 0o640);
  try {
    await handle.writeFile(`${JSON.stringify(doc, null, 2)}\n`);
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
