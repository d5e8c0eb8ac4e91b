// The running configuration and the ways to change it while the box runs: a change set
// over the control API, or the whole file read again (SIGHUP, `dicom-edge reload`). Either
// is validated as a whole, prepared by every part it touches (a new listener is bound
// first), written atomically when it came as a change, and only then put in force.
// Anything failing on the way refuses it with the key and the reason, and the running
// configuration and the file stay as they were. Changes are applied one at a time.
import * as path from 'node:path';
import { ConfigError, validateConfig, type Config } from './config';
import { readConfigDocument, writeConfigDocument, type ConfigDocument } from './config-file';
import { log } from '../log';

/** A change prepared but not yet in force: committed or rolled back by the caller. */
export interface StagedChange {
  commit(): void;
  rollback(): void;
  /**
   * What it changes that the configuration's keys do not show: files read again under the
   * same names (a renewed certificate), named for the log and the operator.
   */
  readonly changed?: readonly string[];
}

/** A part of the box that takes a new configuration: prepares it, then commits or rolls back. */
export type ConfigApplier = (next: Config) => Promise<StagedChange>;

export interface ConfigView {
  readonly config: Config;
  /** The file changes are written to; absent when the box runs without one (tests). */
  readonly file: string | null;
  /** The keys set in the file (the rest are defaults). */
  readonly document: ConfigDocument;
}

export interface ChangeResult extends ConfigView {
  /** The top-level keys whose values changed, and what else the parts read again. */
  readonly changed: string[];
  readonly persisted: boolean;
}

export class LiveConfig {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly appliers: ConfigApplier[] = [];
  private document: ConfigDocument;

  constructor(
    private current: Config,
    private readonly file?: string,
  ) {
    // Without a file, the running configuration is the whole document.
    this.document = file ? readConfigDocument(file) : { ...current };
  }

  get(): Config {
    return this.current;
  }

  view(): ConfigView {
    return { config: this.current, file: this.file ?? null, document: this.document };
  }

  /** Registers a part that must take part in every change, in registration order. */
  use(applier: ConfigApplier): void {
    this.appliers.push(applier);
  }

  /** Registers a part that cannot refuse a change: told once the change is in force. */
  onApplied(apply: (next: Config) => void): void {
    this.use(async (next) => ({ commit: () => apply(next), rollback: () => undefined }));
  }

  /**
   * Sets top-level keys (a null value removes the key: back to its default).
   * Throws ConfigError naming the key when the change is refused.
   */
  change(set: Readonly<Record<string, unknown>>): Promise<ChangeResult> {
    return this.queued(async () => {
      // The file as it is now, so that a hand edit made since start-up is not thrown away.
      const base = this.file ? readConfigDocument(this.file) : this.document;
      const document: ConfigDocument = { ...base };
      for (const [key, value] of Object.entries(set)) {
        if (value === null) delete document[key];
        else document[key] = value;
      }
      const result = await this.apply(document, true);
      log.info('configuration changed', {
        keys: result.changed.join(',') || '(none)',
        file: this.file,
      });
      return result;
    });
  }

  /**
   * Puts the file in force as it is now (an operator edited it, or replaced the certificate
   * files it names): what `config set` does, without writing the file. A file that cannot
   * be read or validated is refused, logged with the key, and the box runs on as it was.
   */
  reload(): Promise<ChangeResult> {
    return this.queued(async () => {
      try {
        if (!this.file)
          throw new ConfigError('(file)', 'the box runs without a config file: nothing to reload');
        const result = await this.apply(readConfigDocument(this.file), false);
        log.info('configuration reloaded', {
          changed: result.changed.join(',') || '(nothing)',
          file: this.file,
        });
        return result;
      } catch (err) {
        log.error('configuration reload refused: the running settings stay', {
          reason: (err as Error).message,
          file: this.file,
        });
        throw err;
      }
    });
  }

  /** Runs changes one after another; a refused one does not stop the next. */
  private queued(step: () => Promise<ChangeResult>): Promise<ChangeResult> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(document: ConfigDocument, write: boolean): Promise<ChangeResult> {
    const validated = validateConfig(document);
    const folder = this.file ? path.dirname(this.file) : process.cwd();
    const next: Config = {
      ...validated,
      storageDir: path.resolve(folder, validated.storageDir),
    };
    if (next.storageDir !== this.current.storageDir) {
      throw new ConfigError(
        'storageDir',
        'cannot change while the box runs (edit the file and restart)',
      );
    }
    const staged: StagedChange[] = [];
    const rollback = (): void => staged.reverse().forEach((s) => s.rollback());
    try {
      for (const applier of this.appliers) staged.push(await applier(next));
    } catch (err) {
      rollback();
      throw err instanceof ConfigError ? err : new ConfigError('(apply)', (err as Error).message);
    }
    if (this.file && write) {
      try {
        await writeConfigDocument(this.file, document);
      } catch (err) {
        rollback();
        throw new ConfigError('(file)', `cannot write ${this.file}: ${(err as Error).message}`);
      }
    }
    const previous = this.current;
    this.current = next;
    this.document = document;
    for (const s of staged) s.commit();
    const changed = [...changedKeys(previous, next), ...staged.flatMap((s) => s.changed ?? [])];
    return { ...this.view(), changed, persisted: this.file !== undefined };
  }
}

/** The top-level keys whose values differ (a key set to its default does not). */
function changedKeys(previous: Config, next: Config): string[] {
  const keys = new Set([...Object.keys(previous), ...Object.keys(next)]);
  return [...keys].filter(
    (k) => JSON.stringify(previous[k as keyof Config]) !== JSON.stringify(next[k as keyof Config]),
  );
}
