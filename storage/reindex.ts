// Rebuilds the index from the cache files: the recovery path when the index is lost or
// suspect. Forward jobs are left as they are, so what was delivered stays delivered. Each file's meta gives its SOP class, instance and transfer syntax; its data
// set is walked by the same scanner that indexes incoming instances.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { createDatasetReader } from '../firmware/dicom/dataset/dataset-reader';
import { parsePart10Header, PART10_HEAD_BYTES } from '../firmware/dicom/dataset/part10';
import { transferSyntax } from '../firmware/dicom/registry/transfer-syntaxes';
import { Cache } from './cache';
import { Index } from './index';
import { INDEXED_TAGS, InstanceStore } from './instance-store';

export interface ReindexReport {
  indexed: number;
  skipped: Array<{ path: string; reason: string }>;
}

export async function reindex(cache: Cache, index: Index): Promise<ReindexReport> {
  const store = new InstanceStore(cache, index);
  await index.clear();
  const report: ReindexReport = { indexed: 0, skipped: [] };
  for await (const rel of cache.files()) {
    try {
      const file = cache.absolute(rel);
      const handle = await fs.open(file, 'r');
      let head: Buffer;
      let size: number;
      try {
        head = Buffer.alloc(PART10_HEAD_BYTES);
        const { bytesRead } = await handle.read(head, 0, head.length, 0);
        head = head.subarray(0, bytesRead);
        size = (await handle.stat()).size;
      } finally {
        await handle.close();
      }
      const { meta, datasetOffset } = parsePart10Header(head);
      const ts = transferSyntax(meta.transferSyntaxUid);
      if (!ts) throw new Error(`unknown transfer syntax ${meta.transferSyntaxUid}`);
      const reader = createDatasetReader(ts, INDEXED_TAGS);
      const digest = createHash('sha256');
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
        digest.digest('hex'),
      );
      if (record.path !== rel)
        throw new Error(`file lies at ${rel} but its UIDs place it at ${record.path}`);
      await index.storeInstance(record);
      report.indexed++;
    } catch (err) {
      report.skipped.push({ path: rel, reason: (err as Error).message });
    }
  }
  return report;
}
