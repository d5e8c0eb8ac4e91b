// The file side of the cache. An instance is written to tmp/ and becomes
// cache/<study>/<series>/<sop>_<version>.dcm, durable — data and name — before it is
// acknowledged (promise 1), in one flush where the filesystem allows (durability.ts). Every
// received copy gets a file name of its own, so a re-send never replaces the file of the
// version the index lists: the index switches to the new file in the transaction that makes
// it acknowledged, and the old file goes only after that commit is durable. The layout
// comes only from UIDs that passed isValidUid: a UID that is not a UID is rejected by the
// caller, never "cleaned" into a path.
import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isValidUid } from '../firmware/dicom/registry/uid';
import { durabilityOf, type Durability } from './durability';

export class InvalidUidError extends Error {
  override name = 'InvalidUidError';
}

/**
 * A file being written into tmp/. Writes are batched: chunks that arrive while a write is
 * in progress go out together in one writev, so receiving from the network and writing
 * to disk overlap. At most MAX_PENDING bytes wait; write() resolves when there is room.
 */
export class TempFile {
  size = 0;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private flushing: Promise<void> | null = null;
  private error: Error | null = null;
  private closed = false;
  private static readonly MAX_PENDING = 2 << 20;

  constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.error) throw this.error;
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    this.size += chunk.length;
    this.flushing ??= this.flushLoop();
    if (this.queuedBytes >= TempFile.MAX_PENDING) await this.flushing;
    if (this.error) throw this.error;
  }

  /** Writes what is queued (to the page cache: nothing is flushed). */
  async written(): Promise<void> {
    await this.drain();
  }

  /**
   * Flushes data and size (and, on a journalling filesystem, the rename before it) to the
   * device; the file is then closed in the background.
   */
  async syncAndClose(): Promise<void> {
    await this.drain();
    await this.handle.sync();
    void this.close().catch(() => undefined);
  }

  async discard(): Promise<void> {
    await this.flushing?.catch(() => undefined);
    await this.close().catch(() => undefined);
    await fs.unlink(this.path).catch(() => undefined);
  }

  private async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.error) throw this.error;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queued.length > 0 && !this.error) {
        const batch = this.queued;
        this.queued = [];
        this.queuedBytes = 0;
        await writeAll(this.handle, batch);
      }
    } catch (err) {
      this.error = err as Error;
    } finally {
      this.flushing = null;
    }
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

async function writeAll(handle: fs.FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    let { bytesWritten } = await handle.writev(pending);
    // A short write: drop what went out and retry the rest.
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        rest.push(b.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}

/** Directory handles kept open for fsync. */
const MAX_DIR_HANDLES = 16;

export class Cache {
  readonly cacheDir: string;
  readonly tmpDir: string;
  /** Directories known to exist (and be durable): no look-up per instance. */
  private readonly knownDirs = new Set<string>();
  /** Open handles of the directories written into lately: an fsync without an open and a close. */
  private readonly dirHandles = new Map<string, Promise<fs.FileHandle>>();
  /** The temp file opened ahead for the next instance (see createTemp). */
  private spare: Promise<TempFile> | null = null;
  /** Directory fsyncs shared by the renames into one directory at the same time. */
  private readonly dirSync = new SharedDirSync((dir) => this.syncDirHandle(dir));
  /** How files are made durable here (durability.ts); strict until init() has looked. */
  durability: Durability = { mode: 'strict', fsType: 'unknown', mountPoint: '?' };

  constructor(readonly storageDir: string) {
    this.cacheDir = path.join(storageDir, 'cache');
    this.tmpDir = path.join(storageDir, 'tmp');
  }

  /** Creates the directories and removes temp files a crash left behind. Returns how many. */
  async init(): Promise<number> {
    await fs.mkdir(this.cacheDir, { recursive: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
    this.durability = await durabilityOf(this.cacheDir);
    const leftovers = await fs.readdir(this.tmpDir);
    await Promise.all(
      leftovers.map((f) => fs.rm(path.join(this.tmpDir, f), { force: true, recursive: true })),
    );
    return leftovers.length;
  }

  /**
   * A new temp file. One is kept opened ahead, so that creating it (a directory update and
   * a thread-pool round trip) is not in the way of the next instance.
   */
  createTemp(): Promise<TempFile> {
    const next = this.spare ?? this.openTemp();
    this.spare = this.openTemp();
    this.spare.catch(() => (this.spare = null)); // an open that failed is retried when used
    return next;
  }

  private async openTemp(): Promise<TempFile> {
    const file = path.join(this.tmpDir, `${Date.now()}-${randomBytes(6).toString('hex')}.part`);
    const handle = await fs.open(file, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o640);
    return new TempFile(file, handle);
  }

  /**
   * A new cache path for a received copy of an instance, relative to the storage dir: never
   * the path of another copy. Throws InvalidUidError.
   */
  newInstancePath(studyUid: string, seriesUid: string, sopInstanceUid: string): string {
    for (const [what, uid] of [
      ['Study Instance UID', studyUid],
      ['Series Instance UID', seriesUid],
      ['SOP Instance UID', sopInstanceUid],
    ] as const) {
      if (!isValidUid(uid))
        throw new InvalidUidError(`${what} ${JSON.stringify(uid.slice(0, 80))} is not a valid UID`);
    }
    const version = randomBytes(6).toString('hex');
    return path.join('cache', studyUid, seriesUid, `${sopInstanceUid}_${version}.dcm`);
  }

  absolute(relativePath: string): string {
    return path.join(this.storageDir, relativePath);
  }

  /**
   * Makes a written temp file the durable cache file at relativePath (a new name): in one
   * flush on a journalling filesystem (rename, then fsync), else in two or more (fsync,
   * rename, fsync of the directory). See durability.ts.
   */
  async commit(temp: TempFile, relativePath: string): Promise<void> {
    const target = this.absolute(relativePath);
    if (this.durability.mode === 'journal') {
      await temp.written();
      await this.renameInto(temp.path, target);
      await temp.syncAndClose();
      return;
    }
    await temp.syncAndClose();
    await this.renameInto(temp.path, target);
    await this.dirSync.sync(path.dirname(target));
  }

  private async renameInto(from: string, target: string): Promise<void> {
    const dir = path.dirname(target);
    await this.ensureDir(dir);
    try {
      await fs.rename(from, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A directory we remembered was removed behind our back: make it again, once.
      this.knownDirs.delete(dir);
      await this.ensureDir(dir);
      await fs.rename(from, target);
    }
  }

  /** A directory was removed (eviction): the next instance for it makes it again. */
  forgetDir(dir: string): void {
    this.knownDirs.delete(dir);
    this.dropDirHandle(dir);
  }

  /** Closes the directory handles kept open and removes the spare temp file (the box stops). */
  async close(): Promise<void> {
    const spare = this.spare;
    this.spare = null;
    await spare?.then((t) => t.discard()).catch(() => undefined);
    const handles = [...this.dirHandles.values()];
    this.dirHandles.clear();
    await Promise.all(handles.map((h) => h.then((f) => f.close()).catch(() => undefined)));
  }

  private async syncDirHandle(dir: string): Promise<void> {
    let handle = this.dirHandles.get(dir);
    if (!handle) {
      // Keep the few most recent: a study arrives into one series directory after another.
      if (this.dirHandles.size >= MAX_DIR_HANDLES)
        this.dropDirHandle(this.dirHandles.keys().next().value!);
      handle = fs.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
      this.dirHandles.set(dir, handle);
    }
    try {
      await (await handle).sync();
    } catch {
      // A directory removed and made again, or a handle gone bad: the plain way, once.
      this.dropDirHandle(dir);
      await fsyncDir(dir);
    }
  }

  private dropDirHandle(dir: string): void {
    const handle = this.dirHandles.get(dir);
    if (!handle) return;
    this.dirHandles.delete(dir);
    void handle.then((h) => h.close()).catch(() => undefined);
  }

  async remove(relativePath: string): Promise<void> {
    await fs.unlink(this.absolute(relativePath)).catch(() => undefined);
  }

  /** Every cache file, relative to the storage dir (for reindex). */
  async *files(): AsyncGenerator<string> {
    async function* walk(dir: string, rel: string): AsyncGenerator<string> {
      for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
        const r = path.join(rel, entry.name);
        if (entry.isDirectory()) yield* walk(path.join(dir, entry.name), r);
        else if (entry.isFile() && entry.name.endsWith('.dcm')) yield r;
      }
    }
    yield* walk(this.cacheDir, 'cache');
  }

  /** mkdir -p, fsync'ing each parent whose entry list changed so new directories survive power loss. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    try {
      await fs.access(dir);
    } catch {
      await this.ensureDir(path.dirname(dir));
      try {
        await fs.mkdir(dir);
        // In journal mode the file's fsync commits the mkdir too.
        if (this.durability.mode === 'strict') await fsyncDir(path.dirname(dir));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    this.knownDirs.add(dir);
  }
}

/**
 * Group commit for directory entries: concurrent instances renamed into the same series
 * directory share one fsync of it. A caller's rename happened before it asks, so the
 * fsync it waits for must start after it asked: the one in flight may have started
 * earlier, so the caller joins the next one, which starts when that ends — and which every
 * other caller arriving meanwhile joins too. One sender: one fsync per instance, as before;
 * twenty senders into one series: far fewer.
 */
export class SharedDirSync {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly next = new Map<string, Promise<void>>();

  constructor(private readonly fsync: (dir: string) => Promise<void> = fsyncDir) {}

  sync(dir: string): Promise<void> {
    const queued = this.next.get(dir);
    if (queued) return queued;
    const running = this.inFlight.get(dir);
    if (!running) return this.start(dir);
    const after = running
      .catch(() => undefined)
      .then(() => {
        this.next.delete(dir);
        return this.start(dir);
      });
    this.next.set(dir, after);
    return after;
  }

  private async start(dir: string): Promise<void> {
    const p = this.fsync(dir);
    this.inFlight.set(dir, p);
    try {
      await p;
    } finally {
      if (this.inFlight.get(dir) === p) this.inFlight.delete(dir);
    }
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** The UIDs a cache file's path names: cache/<study>/<series>/<sop>[_<version>].dcm. */
export interface InstanceFileName {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

/**
 * Reads the UIDs out of a cache path (relative to the storage dir), or null when the path
 * is not one the cache makes. Files of the first layout (<sop>.dcm, no version) are read too.
 */
export function parseInstancePath(relativePath: string): InstanceFileName | null {
  const parts = relativePath.split(path.sep);
  if (parts.length !== 4 || parts[0] !== 'cache') return null;
  const match = /^([0-9.]+?)(?:_[0-9a-f]{12})?\.dcm$/.exec(parts[3]!);
  if (!match) return null;
  const [studyInstanceUid, seriesInstanceUid, sopInstanceUid] = [parts[1]!, parts[2]!, match[1]!];
  if (![studyInstanceUid, seriesInstanceUid, sopInstanceUid].every(isValidUid)) return null;
  return { studyInstanceUid, seriesInstanceUid, sopInstanceUid };
}
