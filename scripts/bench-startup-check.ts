// The start-up check on a large cache: N instance files (25 per series) listed in the index,
// then the time to start the box after a clean stop (the marker: no walk) and after an
// unclean one (the walk: one listing and one query per series directory), with the RSS.
// `node dist/scripts/bench-startup-check.js [N]` (default 500,000). The files are empty:
// the check reads names, never contents, of files the index lists.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Index, type InstanceRecord } from '../storage/index';
import { tempDir } from '../test/support/peers';
import { timedStart } from './timed-start';
import { instanceRecord } from '../test/support/records';
import { uid } from '../test/support/synthetic';

const COUNT = Number(process.argv[2] ?? 500_000);
const PER_SERIES = 25;

function record(n: number): InstanceRecord {
  const series = Math.floor(n / PER_SERIES);
  const study = Math.floor(series / 4);
  const sop = uid(study, series, n);
  return instanceRecord(
    { studyInstanceUid: uid(study), seriesInstanceUid: uid(study, series), sopInstanceUid: sop },
    {
      path: path.join('cache', uid(study), uid(study, series), `${sop}_000000000000.dcm`),
      attributes: { patientId: `P${study % 5000}`, patientName: 'BENCH^PATIENT' },
    },
  );
}

/** The start, and whether it walked the cache. */
async function startOnce(
  storageDir: string,
): Promise<{ ms: number; checked: boolean; peakMb: number }> {
  const t = await timedStart(storageDir);
  return { ms: t.ms, peakMb: t.peakMb, checked: /cache and index checked/.test(t.output) };
}

async function main(): Promise<void> {
  const storageDir = path.join(tempDir('bench-check'), 'var');
  await fs.mkdir(storageDir, { recursive: true });
  let t = Date.now();
  const index = await Index.open(path.join(storageDir, 'index.sqlite'));
  const dirs = new Set<string>();
  for (let n = 0; n < COUNT; n += 5000) {
    const batch = [];
    for (let i = n; i < Math.min(COUNT, n + 5000); i++) batch.push(record(i));
    await Promise.all(batch.map((r) => index.instances.storeInstance(r)));
    for (const r of batch) {
      const dir = path.join(storageDir, path.dirname(r.path));
      if (!dirs.has(dir)) {
        await fs.mkdir(dir, { recursive: true });
        dirs.add(dir);
      }
      await (await fs.open(path.join(storageDir, r.path), 'w')).close();
    }
  }
  await index.close();
  console.log(`made ${COUNT} files in ${dirs.size} series directories in ${Date.now() - t} ms`);
  t = Date.now();
  const unclean = await startOnce(storageDir); // no marker yet: as after a crash
  const clean = await startOnce(storageDir); // the first stop left the marker
  console.log(
    `start after an unclean stop (walk): ${unclean.ms} ms to listening, checked=${unclean.checked}, peak RSS ${unclean.peakMb.toFixed(0)} MB`,
  );
  console.log(
    `start after a clean stop (marker):  ${clean.ms} ms to listening, checked=${clean.checked}, peak RSS ${clean.peakMb.toFixed(0)} MB`,
  );
  await fs.rm(path.dirname(storageDir), { recursive: true, force: true });
}

void main();
