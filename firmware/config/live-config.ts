// The running configuration and the one way to change it while the box runs: the change
// is merged into the file's document, validated as a whole, prepared by every part it
// touches (a new listener is bound first), written atomically, and only then put in force.
// Anything failing on the way refuses the change with the key and the reason, and the
// running configuration and the file stay as they were. Changes are applied one at a time.
import * as path from 'node:path';
import { ConfigError, validateConfig, type Config } from './config';
import { readConfigDocument, writeConfigDocument, type ConfigDocument } from './config-file';
import type { StagedChange } from '../scp-server';
import { log } from '../log';

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
    const next = this.queue.then(() => this.apply(set));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(set: Readonly<Record<string, unknown>>): Promise<ChangeResult> {
    // The file as it is now, so that a hand edit made since start-up is not thrown away.
    const base = this.file ? readConfigDocument(this.file) : this.document;
    const document: ConfigDocument = { ...base };
    for (const [key, value] of Object.entries(set)) {
      if (value === null) delete document[key];
      else document[key] = value;
    }
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
    if (this.file) {
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
    const changed = Object.keys(set).filter(
      (k) =>
        JSON.stringify(previous[k as keyof Config]) !== JSON.stringify(next[k as keyof Config]),
    );
    log.info('configuration changed', { keys: changed.join(',') || '(none)', file: this.file });
    return { ...this.view(), changed, persisted: this.file !== undefined };
  }
}
