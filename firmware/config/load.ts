// Where the configuration comes from: --config FILE, else $DICOM_EDGE_CONFIG, else
// ./dicom-edge.json when it exists, else the embedded defaults. A relative storageDir is
// taken relative to the config file's folder (or the working directory without a file),
// so `status` finds the same box from anywhere.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DEFAULTS, validateConfig, type Config } from './config';

export interface LoadedConfig {
  readonly config: Config;
  /** The file it came from, if any. */
  readonly file?: string;
}

export function configFilePath(explicit?: string): string | undefined {
  if (explicit) return path.resolve(explicit);
  if (process.env.DICOM_EDGE_CONFIG) return path.resolve(process.env.DICOM_EDGE_CONFIG);
  const local = path.resolve('dicom-edge.json');
  return existsSync(local) ? local : undefined;
}

export function loadConfig(explicit?: string): LoadedConfig {
  const file = configFilePath(explicit);
  if (!file) return { config: { ...DEFAULTS, storageDir: path.resolve(DEFAULTS.storageDir) } };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('(file)', `cannot read ${file}: ${(err as Error).message}`);
  }
  const config = validateConfig(raw);
  return {
    config: { ...config, storageDir: path.resolve(path.dirname(file), config.storageDir) },
    file,
  };
}
