// The flush model (flush-model.c) from the TypeScript side: built with gcc where a benchmark
// or test wants it, and a counter per receiver — the environment that preloads the model
// into a process, and the flushes it has made so far.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const SOURCE = path.join(__dirname, '..', '..', '..', 'scripts', 'flush-model', 'flush-model.c');

/** Compiles the model into `dir`; returns the shared object's path. Needs gcc. */
export function buildFlushModel(dir: string): string {
  const library = path.join(dir, 'flush-model.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', library, SOURCE, '-ldl'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return library;
}

/** The calls the model saw, by kind (the byte flush-model.c appends for each). */
export interface FlushCalls {
  readonly fsync: number;
  readonly fdatasync: number;
  readonly syncfs: number;
  readonly sync: number;
  /** Counted, not slowed: not a durability point (see flush-model.c). */
  readonly syncFileRange: number;
}

export class FlushCounter {
  /**
   * `library` from buildFlushModel; `file` where the processes run with env() count (one
   * per receiver); `ms` what each flush costs in them (0: counted only).
   */
  constructor(
    readonly library: string,
    readonly file: string,
    readonly ms = 8,
  ) {}

  /**
   * The environment of a process under the model. UV_USE_IO_URING=0 keeps Node's default:
   * were libuv to submit fsync through io_uring, no libc call would be made for the model
   * to see (Node 20 leaves io_uring off unless asked).
   */
  env(): Record<string, string> {
    return {
      LD_PRELOAD: this.library,
      FLUSH_MODEL_MS: String(this.ms),
      FLUSH_MODEL_COUNT_FILE: this.file,
      UV_USE_IO_URING: '0',
    };
  }

  calls(): FlushCalls {
    const bytes = existsSync(this.file) ? readFileSync(this.file) : Buffer.alloc(0);
    const of = (kind: string): number => bytes.filter((b) => b === kind.charCodeAt(0)).length;
    return {
      fsync: of('f'),
      fdatasync: of('d'),
      syncfs: of('s'),
      sync: of('S'),
      syncFileRange: of('r'),
    };
  }

  /** The calls that flush (and that the model slows): all but sync_file_range. */
  flushes(): number {
    const c = this.calls();
    return c.fsync + c.fdatasync + c.syncfs + c.sync;
  }

  /**
   * The flush count once no flush came for `quietMs` (at most `maxMs`): what a receiver
   * does after its last response (a deferred commit, a checkpoint) counts for its instances.
   */
  async settled(quietMs = 1000, maxMs = 10_000): Promise<number> {
    const deadline = Date.now() + maxMs;
    let last = this.flushes();
    let since = Date.now();
    while (Date.now() - since < quietMs && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const now = this.flushes();
      if (now !== last) [last, since] = [now, Date.now()];
    }
    return last;
  }
}
