// The cache lifecycle on a real small filesystem (a 32 MB tmpfs the test mounts, as root):
// only studies that reached their destination are evicted, least recently used first;
// with nothing evictable the box refuses C-STORE (A700) before the disk is full and goes
// on answering C-ECHO and C-FIND; when the destination comes back the delivered studies
// become evictable and the box accepts again. And kill -9 in the middle of an eviction
// loses nothing that was acknowledged.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Status } from '../../firmware/dicom/dimse/status';
import { findScu } from '../../firmware/services/qr-scu';
import { storeFiles } from '../../firmware/services/store-scu';
import { diskUse } from '../../storage/disk-use';
import { Index } from '../../storage/index';
import { indexPath } from '../../storage/archive';
import { boxConfig, startBoxProcess, type BoxProcess } from '../support/box-process';
import {
  echoLocal,
  freePort,
  listFiles,
  run,
  startBox,
  tempDir,
  type TestBox,
} from '../support/peers';
import { startPoisonScp, type PoisonScp } from '../support/poison-scp';
import { uid, writeSyntheticStudy } from '../support/synthetic';
import { mountExt4, mountTmpfs, requireRoot, unmount } from '../support/mounts';
import { waitFor } from '../support/wait';

const MB = 2 ** 20;
const FAST = { retryInitialSeconds: 0.2, retryMaxSeconds: 0.5, idleSeconds: 2 };

/** A study of four 512x512x16 instances, 2 MB, study number n. */
async function studyFiles(dir: string, n: number): Promise<string[]> {
  return writeSyntheticStudy(dir, n, 4, { rows: 512, columns: 512, patientId: `P${n}` });
}

async function send(port: number, files: string[]): Promise<Array<number | undefined>> {
  const results = await storeFiles(
    { host: '127.0.0.1', port, callingAeTitle: 'MODALITY', calledAeTitle: 'DICOM_EDGE' },
    files,
    () => undefined,
  );
  return results.map((r) => r.status);
}

describe('cache lifecycle: eviction by watermarks on a real small filesystem', function () {
  this.timeout(120_000);
  let mount: string | undefined;
  let box: TestBox | undefined;
  let scp: PoisonScp | undefined;
  afterEach(async () => {
    await box?.stop();
    await scp?.down();
    if (mount) unmount(mount);
    box = scp = mount = undefined;
  });

  for (const fsType of ['tmpfs', 'ext4'] as const)
    it(`${fsType}: evicts only delivered studies, least recently used first; refuses with A700 when nothing may go, serves C-ECHO and C-FIND, and accepts again when the destination is back`, async () => {
      requireRoot('the eviction tests');
      mount = tempDir(`${fsType}-evict`);
      if (fsType === 'tmpfs') mountTmpfs(mount, '32m');
      else mountExt4(mount, 32, 0);
      scp = await startPoisonScp(new Set());
      const metricsPort = await freePort();
      const readyz = async (): Promise<{ status: number; body: string }> => {
        const res = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
        return { status: res.status, body: await res.text() };
      };
      box = await startBox({
        metrics: { port: metricsPort, host: '127.0.0.1' },
        storageDir: path.join(mount, 'var'),
        forwarding: FAST,
        nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: scp.port, forward: true }],
        cache: { evictAbovePercent: 60, evictToPercent: 40, minFreeBytes: 6 * MB, inUseSeconds: 1 },
      });
      const dir = tempDir('evict-files');
      // Six studies the destination gets.
      for (let n = 1; n <= 6; n++)
        assert.deepEqual(await send(box.port, await studyFiles(dir, 700 + n)), [0, 0, 0, 0]);
      await waitFor(
        'all 24 delivered',
        async () => (await box!.forwarder.report())[0]!.done === 24,
      );
      await new Promise((r) => setTimeout(r, 1200)); // out of the in-use window
      // Study 2 is retrieved: now it is the most recently used of the six.
      const got = await run('getscu', [
        '-aec',
        'DICOM_EDGE',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${uid(702)}`,
        '-od',
        tempDir('getscu'),
        '127.0.0.1',
        String(box.port),
      ]);
      assert.equal(got.code, 0, got.stderr);
      // The destination goes down: what arrives now is pinned (not yet delivered).
      await scp.down();
      for (let n = 7; n <= 10; n++)
        assert.deepEqual(await send(box.port, await studyFiles(dir, 700 + n)), [0, 0, 0, 0]);
      await box.archive.evict(false, false);
      const present = async (n: number): Promise<boolean> =>
        (await box!.archive.instance(uid(700 + n, 1, 1))) !== undefined;
      const kept: number[] = [];
      for (let n = 1; n <= 10; n++) if (await present(n)) kept.push(n);
      // Least recently used first: 1, 3, 4, 5, 6, then 2; never 7-10.
      const lru = [1, 3, 4, 5, 6, 2];
      const evicted = lru.filter((n) => !kept.includes(n));
      assert.ok(evicted.length >= 1, `something was evicted (kept ${kept.join(',')})`);
      assert.deepEqual(evicted, lru.slice(0, evicted.length), 'oldest used first');
      for (const n of [7, 8, 9, 10]) assert.ok(kept.includes(n), `pinned study ${n} kept`);
      assert.ok((await diskUse(mount)).usedPercent <= 60);
      // Files match the rows: nothing evicted is left on disk.
      const files = await listFiles(path.join(box.config.storageDir, 'cache'));
      assert.equal(files.length, kept.length * 4);

      // Keep sending while the destination is down: the evictable ones go, then A700.
      let refused: { status?: number; error?: string } | undefined;
      for (let n = 11; n <= 30 && !refused; n++) {
        const results = await storeFiles(
          {
            host: '127.0.0.1',
            port: box.port,
            callingAeTitle: 'MODALITY',
            calledAeTitle: 'DICOM_EDGE',
          },
          await studyFiles(dir, 700 + n),
          () => undefined,
        );
        refused = results.find((r) => r.status !== Status.Success);
        await box.archive.evict(false, false);
      }
      assert.equal(refused?.status, Status.OutOfResources);
      assert.match(refused?.error ?? '', /cache full/);
      assert.ok((await diskUse(mount)).freeBytes > 2 * MB, 'refused before the disk was full');
      // A load balancer or watchdog asking /readyz is told why.
      const notReady = await readyz();
      assert.equal(notReady.status, 503);
      assert.match(notReady.body, /^refusing C-STORE: cache full/m);
      const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(scrape, /^dicom_edge_cache_refusing 1$/m);
      assert.match(scrape, /^dicom_edge_store_failures_total\{status="A700"\} [1-9]/m);
      assert.equal(await echoLocal(box.port), Status.Success, 'C-ECHO still answered');
      let matches = 0;
      const found = await findScu(
        {
          host: '127.0.0.1',
          port: box.port,
          callingAeTitle: 'VIEWER',
          calledAeTitle: 'DICOM_EDGE',
        },
        'study',
        [
          { tag: 0x00080052, vr: 'CS', value: 'STUDY' },
          { tag: 0x0020000d, vr: 'UI', value: '' },
        ],
        () => matches++,
      );
      assert.equal(found.status, Status.Success, 'C-FIND still answered');
      assert.ok(matches >= 4);
      assert.match((await box.forwarder.report())[0]!.state, /backing-off|sending|idle/);

      // The destination is back: the queue drains, those studies may go, the box accepts.
      await scp.up();
      await waitFor(
        'the queue drained',
        async () => (await box!.forwarder.report())[0]!.queued === 0,
        60_000,
      );
      await waitFor('accepting again', async () => box!.archive.refusing === null, 30_000);
      assert.equal((await readyz()).status, 200);
      assert.deepEqual(await send(box.port, await studyFiles(dir, 799)), [0, 0, 0, 0]);
    });

  describe('kill -9 in the middle of an eviction', () => {
    let proc: BoxProcess | undefined;
    afterEach(async () => proc?.kill9());

    it('after the rows are gone and before the files: the restart deletes the files, nothing acknowledged is lost', async () => {
      // Study 1 delivered (evictable), study 2 pinned: its destination refuses connections.
      scp = await startPoisonScp(new Set());
      const config = await boxConfig({
        nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: scp.port, forward: true }],
        forwarding: { ...FAST, instancesPerAssociation: 100, instanceAttempts: 3 },
        // --now evicts down to evictToPercent whatever the high watermark: here, everything it may.
        cache: { evictAbovePercent: 99, evictToPercent: 1, minFreeBytes: 0, inUseSeconds: 1 },
      } as never);
      const dir = tempDir('evict-kill');
      proc = await startBoxProcess(config, { DICOM_EDGE_FAULT_POINT: 'evicted-rows' });
      assert.deepEqual(await send(config.port, await studyFiles(dir, 750)), [0, 0, 0, 0]);
      await waitFor('delivered', async () => scp!.stored.length === 4);
      await scp.down();
      assert.deepEqual(await send(config.port, await studyFiles(dir, 751)), [0, 0, 0, 0]);
      await new Promise((r) => setTimeout(r, 1200));
      // Ask for eviction as an operator would; the box stops after removing the rows.
      void run(process.execPath, [
        path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge'),
        'cache',
        'evict',
        '--now',
        '--config',
        config.file,
      ]);
      await proc.waitForOutput(/fault point evicted-rows reached/);
      await proc.kill9();
      proc = await startBoxProcess(config);
      assert.match(proc.output(), /deleted cache files the index no longer lists files=4/);
      assert.equal(await proc.terminate(), 0);
      const index = await Index.open(indexPath(config.storageDir));
      try {
        assert.equal(await index.instances.getInstance(uid(750, 1, 1)), undefined, 'evicted');
        for (let i = 1; i <= 4; i++)
          assert.ok(await index.instances.getInstance(uid(751, 1, i)), 'the pinned study is whole');
        assert.deepEqual(await index.instances.unlistedFiles(10), []);
      } finally {
        await index.close();
      }
      const files = await listFiles(path.join(config.storageDir, 'cache'));
      assert.equal(files.length, 4, 'only the pinned study is on disk');
    });
  });
});
