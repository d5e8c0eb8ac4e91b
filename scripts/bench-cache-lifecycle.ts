// The cache lifecycle on a large index: N instances (default 100,000) in studies of 20,
// every other study delivered to its destination (evictable), the rest not (pinned).
// Prints how long choosing what to evict takes (the candidate query, the pinned list, the
// usage totals) and the start-up check after an unclean stop, with the box as its own
// process. `node dist/scripts/bench-cache-lifecycle.js [N]`; the files are empty (only
// names are read).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Index } from '../storage/index';
import { tempDir } from '../test/support/peers';
import { timedStart } from './timed-start';
import { instanceRecord } from '../test/support/records';
import { uid } from '../test/support/synthetic';

const COUNT = Number(process.argv[2] ?? 100_000);
const PER_STUDY = 20;

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${what.padEnd(52)} ${ms.toFixed(1).padStart(8)} ms\n`);
  return result;
}

async function main(): Promise<void> {
  const storageDir = path.join(tempDir('bench-lifecycle'), 'var');
  const index = await Index.open(path.join(storageDir, 'index.sqlite'));
  const longAgo = '2025-01-01T00:00:00.000Z';
  for (let n = 0; n < COUNT; n += 5000) {
    const batch = [];
    for (let i = n; i < Math.min(COUNT, n + 5000); i++) {
      const study = Math.floor(i / PER_STUDY);
      const sop = uid(study, 1, i);
      const rel = path.join('cache', uid(study), uid(study, 1), `${sop}_000000000000.dcm`);
      batch.push(
        instanceRecord(
          { studyInstanceUid: uid(study), seriesInstanceUid: uid(study, 1), sopInstanceUid: sop },
          { path: rel, receivedAt: longAgo, forwardTo: ['pacs'], size: 524_288 },
        ),
      );
      await fs.mkdir(path.join(storageDir, path.dirname(rel)), { recursive: true });
      await (await fs.open(path.join(storageDir, rel), 'w')).close();
    }
    await Promise.all(batch.map((r) => index.instances.storeInstance(r)));
  }
  // Every other study delivered.
  const jobs = await index.queue.queuedJobs('pacs', COUNT);
  const delivered = jobs.filter(
    (j) => Math.floor(Number(j.studyInstanceUid.split('.').pop()) % 2) === 0,
  );
  for (let i = 0; i < delivered.length; i += 500)
    await index.queue.finishJobs(delivered.slice(i, i + 500), { state: 'done', status: 0 });
  process.stdout.write(
    `${COUNT} instances in ${COUNT / PER_STUDY} studies, ${delivered.length} delivered\n`,
  );
  const cutoff = new Date(Date.now() - 60_000).toISOString();
  await timed('choose the 50 least recently used evictable studies', () =>
    index.evictions.candidates(cutoff, 50),
  );
  await timed('list the 50 oldest pinned studies, with why', () => index.evictions.pinned(50));
  await timed('usage totals (bytes, pinned bytes)', () => index.evictions.usage());
  const [first] = await index.evictions.candidates(cutoff, 1);
  await timed('evict one study (rows, in one transaction)', () =>
    index.evictions.removeStudy(first!.studyInstanceUid, cutoff),
  );
  await index.close();

  // The start-up check, the box as its own process, after an unclean stop (no marker).
  const start = await timedStart(storageDir);
  process.stdout.write(
    `${'start after an unclean stop, to listening (check)'.padEnd(52)} ${String(start.ms).padStart(8)} ms  (${/ms=(\d+)/.exec(start.output)?.[1] ?? '?'} ms in the check)\n`,
  );
  await fs.rm(path.dirname(storageDir), { recursive: true, force: true });
}

void main();
