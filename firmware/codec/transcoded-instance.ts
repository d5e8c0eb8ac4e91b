// A cached instance in another uncompressed transfer syntax than the one it came in, for a
// peer that cannot accept the original (PRODUCT.md promise 2: the box then transcodes
// between uncompressed syntaxes, and says so): a C-STORE on the only context a peer
// accepted, a STOW-RS part in a syntax web services carry. Streamed element by element
// by the DICOM library's transcoder: never the whole instance in memory.
import type { Cache } from '../../storage/cache';
import { openCacheFile, readRange } from '../../storage/cache-file';
import type { CachedInstance } from '../../storage/index';
import { encodePart10Header } from '../dicom/dataset/part10';
import { transcode } from '../dicom/dataset/transcoder';
import { log } from '../log';

export type InstanceFile = Pick<
  CachedInstance,
  'sopInstanceUid' | 'sopClassUid' | 'transferSyntaxUid' | 'path' | 'datasetOffset' | 'size'
>;

/**
 * The instance's data set (`data`, as cached) in `to`, with the one log line that says
 * so: the destination, the instance, both syntaxes, and why when the peer did not say.
 * Throws DatasetParseError, as it goes, when the data set is malformed.
 */
export function transcodedDataset(
  data: AsyncIterable<Buffer>,
  instance: Pick<InstanceFile, 'sopInstanceUid' | 'transferSyntaxUid'>,
  to: string,
  destination: string,
  why?: string,
): AsyncIterable<Buffer> {
  log.info('transcoding for destination', {
    dest: destination,
    sop: instance.sopInstanceUid,
    from: instance.transferSyntaxUid,
    to,
    why,
  });
  return transcode(data, instance.transferSyntaxUid, to);
}

/** The instance as a Part 10 file in `to` (STOW-RS): File Meta Information naming `to`. */
export async function* transcodedFile(
  cache: Cache,
  instance: InstanceFile,
  to: string,
  destination: string,
  why?: string,
  /** What the data set goes through after transcoding (a worklist coercion). */
  filter: (data: AsyncIterable<Buffer>) => AsyncIterable<Buffer> = (data) => data,
): AsyncGenerator<Buffer> {
  yield encodePart10Header({
    mediaStorageSopClassUid: instance.sopClassUid,
    mediaStorageSopInstanceUid: instance.sopInstanceUid,
    transferSyntaxUid: to,
  });
  const file = await openCacheFile(cache, instance.path);
  try {
    const data = readRange(file, instance.datasetOffset, instance.size);
    yield* filter(transcodedDataset(data, instance, to, destination, why));
  } finally {
    await file.close();
  }
}
