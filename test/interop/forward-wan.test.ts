// Forwarding that fills a far WAN (issue 30): several associations to one destination at
// once, and an asynchronous operations window where the destination grants one, through a
// delaying proxy on 127.0.0.1 (test/support/wan-link.ts). Real peers: DCMTK storescp (with
// and without --fork), dcmqrscp limited to one association, Orthanc; and the project's own
// test SCP for what DCMTK and Orthanc do not do (grant a window, abort on one instance).
// What held with one association holds with several: every instance once, byte-identical;
// a poison instance set aside alone; a destination that takes fewer associations used with
// those, never failed for it; one that goes down backed off once, as a whole; no more
// instances in flight than associations × the window granted; the box killed mid-transfer
// loses nothing; the bandwidth cap is the destination's, across its associations.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DimseNodeConfig, ForwardingConfig } from '../../firmware/config/config';
import { controlRequest } from '../../firmware/control/control-client';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import type { DestinationReport } from '../../firmware/forward/forwarder';
import { onLogLine } from '../../firmware/log';
import { indexPath } from '../../storage/archive';
import { Index } from '../../storage/index';
import { boxConfig, startBoxProcess } from '../support/box-process';
import { startDcmqrscp } from '../support/dcmqrscp';
import { startOrthanc } from '../support/orthanc';
import {
  drained,
  listFiles,
  startBox,
  startStorescp,
  storeInto,
  storescu,
  tempDir,
  type TestBox,
} from '../support/peers';
import { startPoisonScp } from '../support/poison-scp';
import { uid, writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';
import { startWanLink, type WanLink } from '../support/wan-link';

const FAST: Partial<ForwardingConfig> = {
  retryInitialSeconds: 0.3,
  retryMaxSeconds: 1,
  idleSeconds: 2,
  instanceAttempts: 3,
};

function node(port: number, extra: Partial<DimseNodeConfig> = {}): DimseNodeConfig {
  return { name: 'pacs', ae: 'PACS', host: '127.0.0.1', port, forward: true, ...extra };
}

async function report(box: TestBox): Promise<DestinationReport> {
  return (await box.forwarder.report()).find((d) => d.name === 'pacs')!;
}

/** The SOP Instance UID → data set bytes of Part 10 files. */
async function datasetsBySop(files: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of files) {
    const bytes = await fs.readFile(f);
    const head = parsePart10Header(bytes);
    out.set(
      head.meta.mediaStorageSopInstanceUid,
      bytes.subarray(head.datasetOffset).toString('hex'),
    );
  }
  return out;
}

/** Every file sent arrived, its data set byte for byte, and nothing else. */
async function sameDatasets(sent: readonly string[], received: readonly string[]): Promise<void> {
  const want = await datasetsBySop(sent);
  const got = await datasetsBySop(received);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [sop, bytes] of want) assert.ok(got.get(sop) === bytes, `${sop} differs`);
}

describe('forwarding over a far WAN: several associations at once', function () {
  this.timeout(180_000);
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });
  async function box(nodes: DimseNodeConfig[], overrides = {}): Promise<TestBox> {
    const b = await startBox({ forwarding: FAST, nodes, ...overrides });
    cleanups.push(() => b.stop());
    return b;
  }
  async function link(targetPort: number, delayMs: number, bytesPerSecond?: number) {
    const l = await startWanLink({
      targetPort,
      delayMs,
      ...(bytesPerSecond ? { bytesPerSecond } : {}),
    });
    cleanups.push(() => l.close());
    return l;
  }
  /** The box's log lines from now on. */
  function logLines(): string[] {
    const lines: string[] = [];
    const stop = onLogLine((l) => lines.push(l));
    cleanups.push(async () => stop());
    return lines;
  }
  async function study(n: number, count: number, size = 64): Promise<string[]> {
    return writeSyntheticStudy(tempDir('wan'), n, count, { rows: size, columns: size });
  }

  it('to storescp (--fork) 20 ms away with 4 associations: every instance once, byte-identical, over 2 to 4 at once', async () => {
    const scp = await startStorescp(['--fork']);
    cleanups.push(() => scp.stop());
    const wan = await link(scp.port, 10);
    const b = await box([node(wan.port, { ae: 'STORESCP', associations: 4 })]);
    const files = await study(3001, 40);
    await storeInto(b, files);
    await drained(b, 'pacs');
    await sameDatasets(files, await listFiles(scp.dir));
    const r = await report(b);
    assert.deepEqual([r.done, r.failed, r.sentSinceStart, r.consecutiveFailures], [40, 0, 40, 0]);
    assert.ok(wan.mostOpen >= 2 && wan.mostOpen <= 4, `${wan.mostOpen} associations at once`);
  });

  it('to Orthanc 20 ms away with 4 associations: every instance once, byte-identical', async () => {
    const pacs = await startOrthanc({ ae: 'ORTHANC' });
    cleanups.push(() => pacs.stop());
    const wan = await link(pacs.dicomPort, 10);
    const b = await box([node(wan.port, { ae: 'ORTHANC', associations: 4 })]);
    const files = await study(3002, 40);
    await storeInto(b, files);
    await drained(b, 'pacs');
    const received = tempDir('orthanc-files');
    for (const f of files) {
      const sop = parsePart10Header(await fs.readFile(f)).meta.mediaStorageSopInstanceUid;
      const file = await pacs.fileOf(sop);
      assert.ok(file, `${sop} missing in Orthanc`);
      await fs.writeFile(path.join(received, `${sop}.dcm`), file);
    }
    await sameDatasets(files, await listFiles(received));
    assert.equal(await pacs.instanceCount(), 40);
    const r = await report(b);
    assert.deepEqual([r.done, r.failed, r.sentSinceStart], [40, 0, 40]);
    assert.ok(wan.mostOpen >= 2 && wan.mostOpen <= 4, `${wan.mostOpen} associations at once`);
  });

  it('a destination that refuses a second association (dcmqrscp, MaxAssociations 1: A-ASSOCIATE-RJ) gets everything over one, and is not failing', async () => {
    const qr = await startDcmqrscp(1);
    cleanups.push(() => qr.stop());
    const wan = await link(qr.port, 10); // the queue grows behind it: more associations are asked for
    const b = await box([node(wan.port, { ae: qr.ae, associations: 4 })]);
    const lines = logLines();
    const files = await study(3003, 20);
    await storeInto(b, files);
    await drained(b, 'pacs');
    await sameDatasets(files, await qr.received());
    const r = await report(b);
    assert.deepEqual(
      [r.done, r.failed, r.sentSinceStart, r.consecutiveFailures, r.lastError],
      [20, 0, 20, 0, null],
    );
    const fewer = lines.filter((l) => /destination takes fewer associations/.test(l));
    assert.equal(fewer.length, 1, lines.join('\n'));
    assert.match(
      fewer[0]!,
      /open=1 wanted=4 .*association rejected \(transient; source 3, reason 2\)/,
    );
  });

  it('a destination that serves one association at a time (storescp without --fork) gets everything; the others time out and are let go', async () => {
    const scp = await startStorescp();
    cleanups.push(() => scp.stop());
    const wan = await link(scp.port, 20); // 60 round trips of 40 ms: longer than the ARTIM
    const b = await box([node(wan.port, { ae: 'STORESCP', associations: 3 })], {
      artimTimeout: 1,
    });
    const lines = logLines();
    const files = await study(3004, 60);
    await storeInto(b, files);
    await drained(b, 'pacs');
    await sameDatasets(files, await listFiles(scp.dir));
    const r = await report(b);
    assert.deepEqual([r.done, r.failed, r.consecutiveFailures, r.lastError], [60, 0, 0, null]);
    const fewer = lines.filter((l) => /destination takes fewer associations/.test(l));
    assert.equal(fewer.length, 1, lines.join('\n'));
    assert.match(
      fewer[0]!,
      /open=1 wanted=3 reason="no A-ASSOCIATE-AC or -RJ within 1 s \(ARTIM\)"/,
    );
  });

  it('a poison instance among 4 associations is set aside alone and failed after its tries; the 39 others arrive; no backoff', async () => {
    const poison = uid(3005, 1, 7);
    const scp = await startPoisonScp(new Set([poison]));
    cleanups.push(() => scp.down());
    const wan = await link(scp.port, 5);
    const b = await box([node(wan.port, { associations: 4 })]);
    await storeInto(b, await study(3005, 40));
    await waitFor('39 delivered and 1 failed', async () => {
      const r = await report(b);
      return r.done === 39 && r.failed === 1;
    });
    assert.equal(new Set(scp.stored).size, 39);
    assert.deepEqual(scp.aborted, [poison, poison, poison], 'three tries, then failed');
    const r = await report(b);
    assert.equal(r.lastFailedSop, poison);
    assert.equal(r.consecutiveFailures, 0, 'the destination was never backed off');
  });

  it('where the destination grants an operations window, up to that many C-STOREs are outstanding on an association; a poison among them is found alone', async () => {
    const poison = uid(3006, 1, 12);
    const scp = await startPoisonScp(new Set([poison]), { window: 4, responseDelayMs: 30 });
    cleanups.push(() => scp.down());
    const wan = await link(scp.port, 10);
    const b = await box([node(wan.port, { associations: 2, asyncOperations: 8 })]);
    const files = await study(3006, 40);
    await storeInto(b, files);
    await waitFor('39 delivered and 1 failed', async () => {
      const r = await report(b);
      return r.done === 39 && r.failed === 1;
    });
    console.log(`      most C-STOREs outstanding on one association: ${scp.mostOutstanding}`);
    assert.ok(scp.mostOutstanding > 1, 'the window was used');
    assert.ok(scp.mostOutstanding <= 4, 'never more than granted');
    // Its first abort takes those outstanding beside it down too (when there are): which
    // one was to blame is not known, and none is charged; sent again each alone, it is
    // found, and failed after three tries of its own.
    assert.ok(scp.aborted.length >= 3 && scp.aborted.length <= 4, `${scp.aborted.length} aborts`);
    assert.ok(scp.aborted.every((sop) => sop === poison));
    assert.equal(new Set(scp.stored).size, 39);
    const r = await report(b);
    assert.equal(r.lastFailedSop, poison);
    assert.equal(r.consecutiveFailures, 0, 'the destination was never backed off');
  });

  it('N associations × the window granted is the most in flight at once, in the box and on the wire (not associations × the window proposed)', async () => {
    const scp = await startPoisonScp(new Set(), { window: 2, responseDelayMs: 40 });
    cleanups.push(() => scp.down());
    const wan = await link(scp.port, 10);
    // Proposed 8, granted 2: 3 × 2 = 6 instances at most are being sent at any moment.
    const b = await box([node(wan.port, { associations: 3, asyncOperations: 8 })]);
    await storeInto(b, await study(3009, 60));
    let mostInFlight = 0;
    await waitFor(
      'all 60 delivered',
      async () => {
        const r = await report(b);
        mostInFlight = Math.max(mostInFlight, r.inFlightCount);
        return r.done === 60;
      },
      60_000,
      5,
    );
    console.log(
      `      most in flight in the box: ${mostInFlight}; outstanding at the destination: ${scp.mostOutstandingInAll}`,
    );
    assert.ok(mostInFlight <= 6, `${mostInFlight} in flight in the box`);
    assert.ok(scp.mostOutstandingInAll <= 6, `${scp.mostOutstandingInAll} outstanding upstream`);
    assert.ok(scp.mostOutstandingInAll > 3, 'more than one at a time on an association');
    assert.equal(new Set(scp.stored).size, 60);
  });

  it('a destination that goes down mid-transfer over 4 associations is backed off once, as a whole: nothing set aside or failed, all arrives once it is back', async () => {
    const scp = await startPoisonScp(new Set(), { responseDelayMs: 50 });
    cleanups.push(() => scp.down());
    const wan = await link(scp.port, 5);
    const b = await box([node(wan.port, { associations: 4 })], {
      forwarding: { ...FAST, retryInitialSeconds: 4, retryMaxSeconds: 4, probeSeconds: 0.5 },
    });
    const lines = logLines();
    await storeInto(b, await study(3010, 60));
    await waitFor('some stored', async () => scp.stored.length >= 12, 30_000, 5);
    assert.ok(scp.mostOpenSince(0) >= 3, `${scp.mostOpenSince(0)} associations at once`);
    await scp.down(); // every association dropped at once, with requests outstanding on each
    await waitFor('backing off', async () => (await report(b)).state === 'backing-off');
    await new Promise((r) => setTimeout(r, 1000));
    const paused = lines.filter((l) => /forwarding paused/.test(l));
    assert.equal(paused.length, 1, paused.join('\n'));
    assert.match(paused[0]!, /failures=1 /);
    const down = await report(b);
    assert.deepEqual([down.failed, down.setAside, down.consecutiveFailures], [0, 0, 1]);
    const upAt = performance.now();
    await scp.up();
    await waitFor('all 60 delivered', async () => (await report(b)).done === 60, 30_000);
    assert.equal(new Set(scp.stored).size, 60);
    const r = await report(b);
    assert.deepEqual([r.failed, r.setAside, r.consecutiveFailures], [0, 0, 0]);
    assert.equal(lines.filter((l) => /destination takes fewer associations/.test(l)).length, 0);
    assert.ok(scp.mostOpenSince(upAt) >= 3, `${scp.mostOpenSince(upAt)} at once once back`);
  });

  it('a destination that took 2 associations and came back from an outage taking 4 is used with 4, not held to 2', async () => {
    const scp = await startPoisonScp(new Set(), { responseDelayMs: 30 });
    scp.maxAssociations = 2;
    cleanups.push(() => scp.down());
    const wan = await link(scp.port, 5);
    const b = await box([node(wan.port, { associations: 4 })]);
    const lines = logLines();
    await storeInto(b, await study(3011, 40));
    await drained(b, 'pacs');
    assert.ok(scp.rejected >= 1, 'a third association was asked for and rejected');
    assert.equal(lines.filter((l) => /takes fewer associations: .*open=2 /.test(l)).length, 1);
    await scp.down();
    scp.maxAssociations = Infinity; // its licence raised while it was down
    await storeInto(b, await study(3012, 60));
    await waitFor('backing off', async () => (await report(b)).state === 'backing-off');
    const upAt = performance.now();
    await scp.up();
    await waitFor('all 100 delivered', async () => (await report(b)).done === 100, 30_000);
    assert.equal(new Set(scp.stored).size, 100);
    assert.ok(scp.mostOpenSince(upAt) >= 3, `${scp.mostOpenSince(upAt)} at once once back`);
  });

  it('associations lowered from 4 to 1 while forwarding: the others are released once their C-STORE ends, the rest goes over one', async () => {
    const scp = await startPoisonScp(new Set(), { responseDelayMs: 30 });
    cleanups.push(() => scp.down());
    const wan = await link(scp.port, 5);
    const b = await box([node(wan.port, { associations: 4 })]);
    await storeInto(b, await study(3013, 120));
    await waitFor('some stored over several', async () => scp.stored.length >= 20, 30_000, 5);
    assert.ok(scp.mostOpenSince(0) >= 3, `${scp.mostOpenSince(0)} associations at once`);
    await controlRequest(b.config.storageDir, {
      command: 'config-set',
      set: { nodes: [node(wan.port, { associations: 1 })] },
    });
    const lowered = performance.now();
    const storedThen = scp.stored.length;
    await drained(b, 'pacs');
    assert.ok(scp.stored.length - storedThen > 40, 'most of the study went after the change');
    // Those with a C-STORE outstanding finish it (30 ms and a round trip), then go.
    assert.equal(scp.mostOpenSince(lowered + 200), 1);
    assert.equal(new Set(scp.stored).size, 120);
  });

  it('the bandwidth cap is the destination’s across its associations (bytes through the link over time)', async () => {
    const scp = await startStorescp(['--fork']);
    cleanups.push(() => scp.stop());
    const wan: WanLink = await link(scp.port, 10);
    const cap = 400_000;
    const b = await box([
      node(wan.port, { ae: 'STORESCP', associations: 4, maxBytesPerSecond: cap }),
    ]);
    const files = await study(3007, 24, 256); // 128 KB each: 3 MB, about 8 s at the cap
    await storeInto(b, files);
    await drained(b, 'pacs', 120_000);
    const carriers = new Set(
      [...byConnection(wan)].filter(([, bytes]) => bytes > 256 * 1024).map(([c]) => c),
    );
    assert.ok(carriers.size >= 2, `${carriers.size} associations carried the study`);
    // The rate over the whole transfer but its first second (the bucket starts empty).
    const arrivals = wan.upstream;
    const start = arrivals[0]!.at + 1000;
    const measured = arrivals.filter((a) => a.at >= start);
    const bytes = measured.reduce((sum, a) => sum + a.bytes, 0);
    const seconds = (measured.at(-1)!.at - start) / 1000;
    const rate = bytes / seconds;
    console.log(
      `      ${(bytes / 1e6).toFixed(2)} MB in ${seconds.toFixed(2)} s over ${carriers.size} associations: ${(rate / 1000).toFixed(0)} kB/s, cap ${cap / 1000} kB/s`,
    );
    assert.ok(rate <= cap * 1.15, `${rate.toFixed(0)} B/s through a cap of ${cap}`);
    assert.ok(
      rate >= cap * 0.6,
      `${rate.toFixed(0)} B/s: the cap, not something else, set the pace`,
    );
  });

  it('the box killed with SIGKILL mid-transfer over 4 associations: every instance arrives, byte-identical, each job done once', async () => {
    const pacs = await startOrthanc({ ae: 'ORTHANC' });
    cleanups.push(() => pacs.stop());
    const wan = await link(pacs.dicomPort, 10, 1_500_000);
    const config = await boxConfig({
      forwarding: FAST,
      nodes: [node(wan.port, { ae: 'ORTHANC', associations: 4 })],
    });
    let boxProcess = await startBoxProcess(config);
    cleanups.push(() => boxProcess.kill9());
    const files = await study(3008, 40, 256); // 5 MB: about 3.5 s through the link
    await storescu(boxProcess.port, files);
    await waitFor('some forwarded', async () => (await pacs.instanceCount()) >= 8, 60_000, 20);
    await boxProcess.kill9();
    const atKill = await pacs.instanceCount();
    assert.ok(atKill < 40, 'the kill landed before the end');
    boxProcess = await startBoxProcess(config);
    await waitFor('all 40 upstream', async () => (await pacs.instanceCount()) === 40, 90_000, 200);
    const received = tempDir('orthanc-files');
    for (const f of files) {
      const sop = parsePart10Header(await fs.readFile(f)).meta.mediaStorageSopInstanceUid;
      await fs.writeFile(path.join(received, `${sop}.dcm`), (await pacs.fileOf(sop))!);
    }
    await sameDatasets(files, await listFiles(received));
    assert.equal(await boxProcess.terminate(), 0);
    const index = await Index.open(indexPath(config.storageDir));
    try {
      const summary = await index.queue.forwardSummary();
      assert.deepEqual(
        summary.map((s) => [s.destination, s.done, s.queued, s.failed]),
        [['pacs', 40, 0, 0]],
      );
      for (let i = 1; i <= 40; i++) {
        const jobs = await index.queue.jobsOf(uid(3008, 1, i));
        assert.deepEqual(
          jobs.map((j) => [j.destination, j.state]),
          [['pacs', 'done']],
        );
      }
    } finally {
      await index.close();
    }
    console.log(`      ${atKill} of 40 in Orthanc when the box was killed`);
  });
});

/** Bytes towards the destination, by connection. */
function byConnection(wan: WanLink): Map<number, number> {
  const out = new Map<number, number>();
  for (const a of wan.upstream) out.set(a.connection, (out.get(a.connection) ?? 0) + a.bytes);
  return out;
}
