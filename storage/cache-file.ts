// Reading cache files for sending: C-STORE (store-sender.ts), STOW-RS parts and the JPEG-LS
// encoder (firmware/codec) all read them here. The lengths come from the index or the
// data set, so no read is spent finding the end; a file shorter than that is a
// CacheFileError, never a silently truncated send.
import { promises as fs } from 'node:fs';
import type { Cache } from './cache';

/**
 * Files are read in large chunks whatever the peer's PDU size: the channel cuts them into
 * PDVs as views, so a 16 KB peer does not cost 32 reads per 512 KB instance.
 */
export const FILE_READ_CHUNK = 1 << 20;

export class CacheFileError extends Error {
  override name = 'CacheFileError';
}

export async function openCacheFile(cache: Cache, relativePath: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(cache.absolute(relativePath), 'r');
  } catch (err) {
    throw new CacheFileError(
      `cache file ${relativePath} cannot be read: ${(err as Error).message}`,
    );
  }
}

/** The bytes [start, end) of an open file, in chunks of at most FILE_READ_CHUNK. */
export async function* readRange(
  file: fs.FileHandle,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  for (let position = start; position < end;) {
    const chunk = Buffer.allocUnsafe(Math.min(FILE_READ_CHUNK, end - position));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) throw new CacheFileError(`cache file ended at byte ${position} of ${end}`);
    position += bytesRead;
    yield bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead);
  }
}

/**
 * Exactly `length` bytes at `at`, read straight into a buffer of their own (not a slice of
 * Node's pool), so that it can be moved to a worker thread without a copy.
 */
export async function readExactly(
  file: fs.FileHandle,
  at: number,
  length: number,
): Promise<Buffer> {
  const out = Buffer.allocUnsafeSlow(length);
  for (let done = 0; done < length;) {
    const { bytesRead } = await file.read(out, done, length - done, at + done);
    if (bytesRead === 0)
      throw new CacheFileError(`cache file ended at byte ${at + done} of ${at + length}`);
    done += bytesRead;
  }
  return out;
}

/**
 * A whole cache file (the Part 10 file as received: preamble, meta information, data
 * set), in chunks, for a destination that takes files (STOW-RS).
 */
export async function* readCacheFile(
  cache: Cache,
  instance: { readonly path: string; readonly size: number },
): AsyncGenerator<Buffer> {
  const file = await openCacheFile(cache, instance.path);
  try {
    yield* readRange(file, 0, instance.size);
  } finally {
    await file.close();
  }
}
