// The configuration file on disk: read as a plain JSON document (only the keys the user
// set, so a rewrite does not freeze today's defaults into it) and replaced atomically.
import { readFileSync } from 'node:fs';
import { replaceFileDurably } from '../replace-file';
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

/** Replaces the file durably: after a power cut it holds the old document or the new. */
export async function writeConfigDocument(file: string, doc: ConfigDocument): Promise<void> {
  await replaceFileDurably(file, `${JSON.stringify(doc, null, 2)}\n`, 0o640);
}
