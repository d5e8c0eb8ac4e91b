// The file side of the cache. An instance is written to tmp/, fsync'd, renamed into
// cache/<study>/<series>/<sop>.dcm and the directory fsync'd (promise 1: durable before
// acknowledged). The layout comes only from UIDs that passed isValidUid: a UID that is not
// a UID is rejected by the caller, never "cleaned" into a path.
import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isValidUid } from '../firmware/dicom/registry/uid';

export class InvalidUidError extends Error {
  override name = 'InvalidUidError';
}

/** A file being written into tmp/. */
export class TempFile {
  size = 0;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, off, chunk.length - off);
      off += bytesWritten;
    }
    this.size += chunk.length;
  }

  /** Flushes data and size to the device and closes the file. */
  async syncAndClose(): Promise<void> {
    await this.handle.sync();
    await this.close();
  }

  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await fs.unlink(this.path).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

export class Cache {
  readonly cacheDir: string;
  readonly tmpDir: string;

  constructor(readonly storageDir: string) {
    this.cacheDir = path.join(storageDir, 'cache');
    this.tmpDir = path.join(storageDir, 'tmp');
  }

  /** Creates the directories and removes temp files a crash left behind. Returns how many. */
  async init(): Promise<number> {
    await fs.mkdir(this.cacheDir, { recursive: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
    const leftovers = await fs.readdir(this.tmpDir);
    await Promise.all(
      leftovers.map((f) => fs.rm(path.join(this.tmpDir, f), { force: true, recursive: true })),
    );
    return leftovers.length;
  }

  async createTemp(): Promise<TempFile> {
    const file = path.join(this.tmpDir, `${Date.now()}-${randomBytes(6).toString('hex')}.part`);
    const handle = await fs.open(file, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o640);
    return new TempFile(file, handle);
  }

  /** The cache path of an instance, relative to the storage dir. Throws InvalidUidError. */
  instancePath(studyUid: string, seriesUid: string, sopInstanceUid: string): string {
    for (const [what, uid] of [
      ['Study Instance UID', studyUid],
      ['Series Instance UID', seriesUid],
      ['SOP Instance UID', sopInstanceUid],
    ] as const) {
      if (!isValidUid(uid))
        throw new InvalidUidError(`${what} ${JSON.stringify(uid.slice(0, 80))} is not a valid UID`);
    }
    return path.join('cache', studyUid, seriesUid, `${sopInstanceUid}.dcm`);
  }

  absolute(relativePath: string): string {
    return path.join(this.storageDir, relativePath);
  }

  /** Makes a written temp file the durable cache file at relativePath (replacing any). */
  async commit(temp: TempFile, relativePath: string): Promise<void> {
    await temp.syncAndClose();
    const target = this.absolute(relativePath);
    await this.ensureDir(path.dirname(target));
    await fs.rename(temp.path, target);
    await fsyncDir(path.dirname(target));
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
    try {
      await fs.access(dir);
      return;
    } catch {
      // create below
    }
    await this.ensureDir(path.dirname(dir));
    try {
      await fs.mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return;
    }
    await fsyncDir(path.dirname(dir));
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
