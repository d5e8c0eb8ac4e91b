// Rebuilds the index from the cache files: the recovery path when the index is lost or
// suspect. Each file's meta gives its SOP class, instance and transfer syntax; its data
// set is walked by the same scanner that indexes incoming instances. Forward jobs are
// kept, so what was delivered stays delivered; instances the router sends somewhere and
// that have no job there get one (a lost index means re-sending rather than losing).
import { createReadStream, promises as fs } from 'node:fs';
import { createDatasetReader } from '../firmware/dicom/dataset/dataset-reader';
import { parsePart10Header, PART10_HEAD_BYTES } from '../firmware/dicom/dataset/part10';
import { transferSyntax } from '../firmware/dicom/registry/transfer-syntaxes';
import { Cache } from './cache';
import { contentDigest } from './content-digest';
import { Index, type InstanceRecord } from './index';
import { INDEXED_TAGS, InstanceStore, type Router } from './instance-store';

export interface ReindexReport {
  indexed: number;
  skipped: Array<{ path: string; reason: string }>;
}

/**
 * The index row of a cache file, read from the file itself: what a copy received now
 * would get, with the file's own path, its modification time as the time received, and
 * the routing of `store`.
 */
export async function recordOfFile(store: InstanceStore, rel: string): Promise<InstanceRecord> {
  const file = store.cache.absolute(rel);
  const handle = await fs.open(file, 'r');
  let head: Buffer;
  let size: number;
  let mtime: Date;
  try {
    head = Buffer.alloc(PART10_HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    head = head.subarray(0, bytesRead);
    ({ size, mtime } = await handle.stat());
  } finally {
    await handle.close();
  }
  const { meta, datasetOffset } = parsePart10Header(head);
  const ts = transferSyntax(meta.transferSyntaxUid);
  if (!ts) throw new Error(`unknown transfer syntax ${meta.transferSyntaxUid}`);
  const reader = createDatasetReader(ts, INDEXED_TAGS);
  const digest = contentDigest();
  for await (const chunk of createReadStream(file, { start: datasetOffset })) {
    digest.update(chunk as Buffer);
    const wait = reader.write(chunk as Buffer);
    if (wait) await wait;
  }
  const values = await reader.end();
  const record = store.recordFrom(
    {
      sopClassUid: meta.mediaStorageSopClassUid,
      sopInstanceUid: meta.mediaStorageSopInstanceUid,
      transferSyntaxUid: meta.transferSyntaxUid,
      callingAeTitle: meta.sourceApplicationEntityTitle ?? '',
    },
    values,
    size,
    datasetOffset,
    digest.digest(),
    rel,
  );
  return { ...record, receivedAt: mtime.toISOString() };
}

/**
 * Where one SOP Instance UID has several files (a crash between storing a new copy and
 * deleting the old one), the most recently written wins: with the index gone, nothing
 * else says which copy was acknowledged. The others are reported and left in place; the
 * box's start-up check deletes files no row lists.
 */
export async function reindex(
  cache: Cache,
  index: Index,
  router: Router = () => [],
): Promise<ReindexReport> {
  const store = new InstanceStore(cache, index, router);
  await index.instances.clear();
  const report: ReindexReport = { indexed: 0, skipped: [] };
  for await (const rel of cache.files()) {
    try {
      const record = await recordOfFile(store, rel);
      const indexed = await index.instances.getInstance(record.sopInstanceUid);
      if (indexed) {
        const indexedAt = (await fs.stat(cache.absolute(indexed.path))).mtime.toISOString();
        const older = indexedAt >= record.receivedAt ? rel : indexed.path;
        report.skipped.push({ path: older, reason: `an older copy of ${record.sopInstanceUid}` });
        if (older === rel) continue;
        report.indexed--;
      }
      await index.instances.storeInstance(record);
      report.indexed++;
    } catch (err) {
      report.skipped.push({ path: rel, reason: (err as Error).message });
    }
  }
  return report;
}
