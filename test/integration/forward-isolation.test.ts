// One bad instance never stalls a destination: an instance whose transfer the destination
// aborts while it takes everything else is set aside, tried again, then failed with the
// reason and its SOP Instance UID; the rest of the queue flows. A destination that is down
// is still backed off as a whole, and nothing is charged to the instances or lost.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { storeFiles } from '../../firmware/services/store-scu';
import { BIN } from '../support/box-process';
import { run, startBox, tempDir, type TestBox } from '../support/peers';
import { startPoisonScp, type PoisonScp } from '../support/poison-scp';
import { uid, writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';

const FAST = { retryInitialSeconds: 0.3, retryMaxSeconds: 1, idleSeconds: 2, instanceAttempts: 3 };

describe('forwarding: one bad instance never stalls a destination', function () {
  this.timeout(90_000);
  let box: TestBox | undefined;
  let scp: PoisonScp | undefined;
  afterEach(async () => {
    await box?.stop();
    await scp?.down();
    box = scp = undefined;
  });

  async function boxTo(peer: PoisonScp): Promise<TestBox> {
    return startBox({
      forwarding: FAST,
      nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: peer.port, forward: true }],
    });
  }

  async function send(b: TestBox, study: number, count: number): Promise<void> {
    const files = await writeSyntheticStudy(tempDir('isolation'), study, count);
    const results = await storeFiles(
      { host: '127.0.0.1', port: b.port, callingAeTitle: 'MODALITY', calledAeTitle: 'DICOM_EDGE' },
      files,
      () => undefined,
    );
    assert.ok(results.every((r) => r.status === 0));
  }

  async function pacs(b: TestBox) {
    return (await b.forwarder.report()).find((d) => d.name === 'pacs')!;
  }

  it('a study of 50 whose first instance the destination aborts on arrives 49/50; the bad one fails by SOP UID, is listed, and can be retried', async () => {
    const poison = uid(500, 1, 1);
    scp = await startPoisonScp(new Set([poison]));
    box = await boxTo(scp);
    await send(box, 500, 50);
    await waitFor('49 delivered and 1 failed', async () => {
      const r = await pacs(box!);
      return r.done === 49 && r.failed === 1;
    });
    assert.equal(new Set(scp.stored).size, 49);
    assert.ok(!scp.stored.includes(poison));
    assert.deepEqual(scp.aborted, [poison, poison, poison], 'three tries, then failed');
    const report = await pacs(box);
    assert.equal(report.lastFailedSop, poison);
    assert.match(report.lastFailedError ?? '', /association aborted .*while sending/);
    // The destination's last error is the poison's, unless the last of the 49 was delivered
    // after its third try (the order of the two is the scheduler's): then it is history.
    const deliveredAfter = (report.lastDoneAt ?? '') > (report.lastFailedAt ?? '');
    if (!deliveredAfter) assert.match(report.lastJobError ?? '', /while sending/);
    await send(box, 504, 1);
    await waitFor('a later delivery', async () => (await pacs(box!)).done === 50);
    assert.equal((await pacs(box)).lastJobError, null, 'a later delivery ages the last error out');
    assert.equal((await pacs(box)).lastFailedSop, poison, 'the last failure stays named');

    // The command line: `queue failed` names it, `queue retry --sop` says what it requeued.
    const config = path.join(tempDir('cli'), 'dicom-edge.json');
    await fs.writeFile(config, JSON.stringify({ storageDir: box.config.storageDir }));
    const failed = await run(process.execPath, [BIN, 'queue', 'failed', '--config', config]);
    assert.equal(failed.code, 0, failed.stderr);
    assert.match(
      failed.stdout,
      new RegExp(`pacs {2}SOP ${poison.replace(/\./g, '\\.')} .*attempts 3`),
    );
    const retried = await run(process.execPath, [
      BIN,
      'queue',
      'retry',
      '--sop',
      poison,
      '--config',
      config,
    ]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(retried.stdout, `1 failed job(s) requeued:\n  pacs: ${poison}\n`);
    await waitFor('tried again', async () => scp!.aborted.length > 3);
    const nothing = await run(process.execPath, [
      BIN,
      'queue',
      'retry',
      '--study',
      uid(999),
      '--config',
      config,
    ]);
    assert.equal(nothing.stdout, 'no failed jobs matched: nothing requeued\n');
  });

  it('the rest of the queue flows at once after the bad instance first fails', async () => {
    const poison = uid(501, 1, 1);
    scp = await startPoisonScp(new Set([poison]));
    box = await boxTo(scp);
    await send(box, 501, 20);
    await waitFor('all but the bad one delivered', async () => (await pacs(box!)).done === 19);
    const firstAbort = scp.timeline.find((e) => e.kind === 'aborted')!;
    const next = scp.timeline.find((e) => e.kind === 'stored' && e.at > firstAbort.at)!;
    const flowing = next.at - firstAbort.at;
    console.log(
      `      from the bad instance's first failure to the next delivery: ${flowing.toFixed(1)} ms`,
    );
    assert.ok(flowing < 5000, `${flowing} ms`);
    const r = await pacs(box);
    assert.equal(r.state === 'backing-off', false, 'the destination was never backed off');
  });

  it('a destination that is down is backed off as a whole: nothing charged, nothing lost', async () => {
    scp = await startPoisonScp(new Set());
    await scp.down();
    box = await boxTo(scp);
    await send(box, 502, 10);
    await waitFor('backing off', async () => (await pacs(box!)).consecutiveFailures >= 2);
    const waiting = await pacs(box);
    assert.equal(waiting.failed, 0);
    assert.equal(waiting.setAside, 0);
    assert.match(waiting.lastError ?? '', /ECONNREFUSED/);
    await scp.up();
    await waitFor('all delivered', async () => (await pacs(box!)).done === 10, 30_000);
    assert.equal(new Set(scp.stored).size, 10);
    const index = box.archive;
    for (let i = 1; i <= 10; i++) {
      const [job] = await index.queue.jobsOf(uid(502, 1, i));
      assert.deepEqual([job?.state, job?.attempts], ['done', 1]);
    }
  });

  it('a destination that aborts every instance is in trouble itself: it is backed off', async () => {
    const all = new Set(Array.from({ length: 6 }, (_, i) => uid(503, 1, i + 1)));
    scp = await startPoisonScp(all);
    box = await boxTo(scp);
    await send(box, 503, 6);
    await waitFor('backing off', async () => (await pacs(box!)).state === 'backing-off');
    assert.match((await pacs(box)).lastError ?? '', /3 instances in a row failed in transfer/);
  });
});
