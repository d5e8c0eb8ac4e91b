// Promise 1 under faults: a copy the box acknowledged is never replaced by one it did not
// acknowledge, and after any restart the index lists exactly the files in the cache.
// A real full filesystem (a size-limited tmpfs, mounted by the test as root) and real
// crashes (kill -9 of the box process, at a chosen step or at random).
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { indexPath } from '../../storage/archive';
import { Status } from '../../firmware/dicom/dimse/status';
import { storeFiles } from '../../firmware/services/store-scu';
import { Index } from '../../storage/index';
import { boxConfig, startBoxProcess, type BoxProcess } from '../support/box-process';
import { cacheAudit, digestOf, Ledger, peer, roundBatches } from '../support/crash-workload';
import { datasetBytes, listFiles, startBox, tempDir } from '../support/peers';
import { uid, writeSyntheticFile } from '../support/synthetic';
import { mountTmpfs, requireRoot, unmount } from '../support/mounts';
import { waitFor } from '../support/wait';

async function store(port: number, file: string): Promise<{ status?: number; error?: string }> {
  const [r] = await storeFiles(peer(port), [file], () => undefined);
  return r!;
}

/** Two versions of one instance: same UIDs, different pixel data, same size. */
async function twoVersions(
  dir: string,
  n: number,
  i = 1,
): Promise<{ sop: string; v1: string; v2: string }> {
  const sop = uid(n, 1, i);
  const o = {
    studyUid: uid(n),
    seriesUid: uid(n, 1),
    sopInstanceUid: sop,
    rows: 256,
    columns: 256,
  };
  const v1 = path.join(dir, `v1-${n}-${i}.dcm`);
  const v2 = path.join(dir, `v2-${n}-${i}.dcm`);
  await writeSyntheticFile(v1, { ...o, noiseSeed: 1 });
  await writeSyntheticFile(v2, { ...o, noiseSeed: 2 });
  return { sop, v1, v2 };
}

describe('cache safety: acknowledged copies, orphans and crashes', function () {
  this.timeout(240_000);

  it('a changed re-send refused on a full disk (real tmpfs, SQLITE_FULL) leaves the acknowledged copy listed, intact and served', async () => {
    requireRoot('the full-disk test');
    const mount = tempDir('tmpfs');
    mountTmpfs(mount, '12m');
    const dir = tempDir('versions');
    let box;
    try {
      // No reserve: this disk is full on purpose, the index is what must refuse.
      box = await startBox({ storageDir: path.join(mount, 'var'), cache: { minFreeBytes: 0 } });
      const { sop, v1, v2 } = await twoVersions(dir, 100);
      assert.equal((await store(box.port, v1)).status, Status.Success);
      const acknowledged = await box.archive.instance(sop);
      // Fill the disk so that the new copy's file just fits and the index's WAL cannot grow.
      const size = (await fs.stat(v2)).size;
      const needed = Math.ceil(size / 4096) * 4096;
      const { bavail, bsize } = await fs.statfs(mount);
      const filler = path.join(mount, 'filler');
      const handle = await fs.open(filler, 'w');
      const block = Buffer.alloc(1 << 20, 1);
      for (let left = bavail * bsize - needed; left > 0; left -= block.length)
        await handle.write(block, 0, Math.min(block.length, left));
      await handle.close();
      const refused = await store(box.port, v2);
      assert.equal(refused.status, Status.OutOfResources, refused.error);
      assert.match(refused.error ?? '', /cannot index the instance: SQLITE_FULL/);
      const listed = await box.archive.instance(sop);
      assert.deepEqual(listed, acknowledged, 'the index still lists the acknowledged copy');
      const cached = await datasetBytes(path.join(box.config.storageDir, listed!.path));
      assert.deepEqual(cached, await datasetBytes(v1), 'and its file holds it, intact');
      assert.deepEqual(
        (await listFiles(path.join(box.config.storageDir, 'cache'))).map((f) =>
          path.relative(box!.config.storageDir, f),
        ),
        [listed!.path],
        'the refused copy left no file',
      );
      // Room again: the same re-send is acknowledged, and only then replaces the first copy.
      await fs.rm(filler);
      assert.equal((await store(box.port, v2)).status, Status.Success);
      const replaced = await box.archive.instance(sop);
      assert.notEqual(replaced!.path, listed!.path);
      assert.equal(replaced!.digest, await digestOf(v2));
      // The commit listed the first copy's file for deletion; the evictor's next look deletes it.
      const only = [path.join(box.config.storageDir, replaced!.path)];
      await waitFor(
        'the replaced copy deleted',
        async () =>
          JSON.stringify(await listFiles(path.join(box!.config.storageDir, 'cache'))) ===
          JSON.stringify(only),
      );
    } finally {
      await box?.stop();
      unmount(mount);
    }
  });

  describe('kill -9 at a chosen step of a changed re-send', () => {
    let box: BoxProcess | undefined;
    afterEach(async () => box?.kill9());

    async function acknowledgedThenKilledAt(
      point: 'stored-file' | 'indexed',
    ): Promise<{ storageDir: string; sop: string; v1: string; v2: string }> {
      const config = await boxConfig();
      const versions = await twoVersions(tempDir('versions'), 101);
      box = await startBoxProcess(config);
      assert.equal((await store(config.port, versions.v1)).status, Status.Success);
      assert.equal(await box.terminate(), 0);
      box = await startBoxProcess(config, { DICOM_EDGE_FAULT_POINT: point });
      const pending = store(config.port, versions.v2);
      await box.waitForOutput(new RegExp(`fault point ${point} reached`));
      await box.kill9();
      const unanswered = await pending;
      assert.equal(unanswered.status, undefined, 'the sender never got a response');
      box = await startBoxProcess(config);
      assert.match(box.output(), /no clean stop recorded: cache and index checked/);
      assert.equal(await box.terminate(), 0);
      return { storageDir: config.storageDir, ...versions };
    }

    const cases = [
      [
        'stored-file',
        'after the new file is durable, before the commit: the acknowledged copy stays, the orphan goes',
        'v1',
      ],
      [
        'indexed',
        'after the commit, before the old file is deleted: the new copy is served, the old file goes',
        'v2',
      ],
    ] as const;
    for (const [point, title, served] of cases) {
      it(title, async () => {
        const killed = await acknowledgedThenKilledAt(point);
        const audit = await cacheAudit(killed.storageDir);
        assert.equal(audit.rows.get(killed.sop)?.digest, await digestOf(killed[served]));
        assert.deepEqual(audit.orphans, []);
        assert.deepEqual(audit.mismatched, []);
        assert.equal(audit.files.length, 1);
      });
    }

    it('an orphan of an instance the index does not know is adopted: indexed and queued for forwarding', async () => {
      const config = await boxConfig({
        nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: 9, forward: true }],
        forwarding: {
          retryInitialSeconds: 600,
          retryMaxSeconds: 600,
          instancesPerAssociation: 100,
          idleSeconds: 5,
        },
      } as never);
      const { sop, v1 } = await twoVersions(tempDir('adopt'), 102);
      box = await startBoxProcess(config, { DICOM_EDGE_FAULT_POINT: 'stored-file' });
      const pending = store(config.port, v1);
      await box.waitForOutput(/fault point stored-file reached/);
      await box.kill9();
      await pending;
      box = await startBoxProcess(config);
      assert.match(box.output(), /adopted=1/);
      assert.equal(await box.terminate(), 0);
      const audit = await cacheAudit(config.storageDir);
      assert.equal(audit.rows.get(sop)?.digest, await digestOf(v1));
      assert.deepEqual(audit.orphans, []);
      const index = await Index.open(indexPath(config.storageDir));
      try {
        assert.deepEqual(
          (await index.queue.jobsOf(sop)).map((j) => [j.destination, j.state]),
          [['pacs', 'queued']],
        );
      } finally {
        await index.close();
      }
    });
  });

  it('20 kill -9 at random instants while 3 senders store, with changed re-sends: nothing acknowledged lost, rows match files, no orphans', async () => {
    const config = await boxConfig();
    const rounds = 20;
    const ledger = new Ledger();
    const totals = { lost: 0, mismatched: 0, orphans: 0 };
    const seed = { next: 1000 };
    let box: BoxProcess | undefined;
    try {
      for (let round = 0; round < rounds; round++) {
        const dir = tempDir(`round${round}`);
        // Three senders of a new study each; the third also re-sends changed versions of
        // instances acknowledged in earlier rounds.
        const batches = await roundBatches(dir, {
          firstStudy: 200 + round * 3,
          senders: 3,
          perSender: 30,
          resend: [...ledger.acknowledged].slice(-15),
          seed,
        });
        box = await startBoxProcess(config);
        const sending = batches.map((batch) => ledger.send(config.port, batch));
        await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 600)));
        await box.kill9();
        await Promise.all(sending);
        box = await startBoxProcess(config);
        assert.equal(await box.terminate(), 0, box.output());
        const audit = await cacheAudit(config.storageDir);
        totals.orphans += audit.orphans.length;
        totals.mismatched += audit.mismatched.length;
        totals.lost += ledger.lost(audit).length;
        await fs.rm(dir, { recursive: true, force: true });
      }
    } finally {
      await box?.kill9();
    }
    console.log(
      `      ${rounds} kill -9: ${ledger.counts.acknowledged} acknowledged (${ledger.counts.replaced} changed re-sends), ${ledger.acknowledged.size} distinct instances, ` +
        `lost ${totals.lost}, rows not matching their files ${totals.mismatched}, orphans ${totals.orphans}`,
    );
    assert.ok(
      ledger.counts.acknowledged > rounds * 10,
      'the kills came while stores were being acknowledged',
    );
    assert.deepEqual(totals, { lost: 0, mismatched: 0, orphans: 0 });
  });

  it('a clean stop is recorded and the next start skips the walk; without it a missing file loses its row and its jobs fail visibly', async () => {
    const nodes = [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: 9, forward: true }];
    const forwarding = {
      retryInitialSeconds: 600,
      retryMaxSeconds: 600,
      instancesPerAssociation: 100,
      idleSeconds: 5,
    };
    const first = await startBox({ nodes, forwarding });
    const storageDir = first.config.storageDir;
    const dir = tempDir('missing');
    const a = await twoVersions(dir, 103, 1);
    const b = await twoVersions(dir, 103, 2);
    assert.equal((await store(first.port, a.v1)).status, Status.Success);
    assert.equal((await store(first.port, b.v1)).status, Status.Success);
    const gone = (await first.archive.instance(b.sop))!.path;
    await first.stop();
    const second = await startBox({ storageDir, nodes, forwarding });
    assert.equal(second.archive.startupCheck.checked, false, 'a clean stop: no walk');
    await second.stop();
    // A file lost while the box was down, then a crash (no clean-stop marker).
    await fs.rm(path.join(storageDir, gone));
    await fs.rm(path.join(storageDir, 'clean-stop'));
    const third = await startBox({ storageDir, nodes, forwarding });
    try {
      assert.equal(third.archive.startupCheck.checked, true);
      assert.deepEqual(third.archive.startupCheck.missing, [b.sop]);
      assert.equal(await third.archive.instance(b.sop), undefined);
      assert.ok(await third.archive.instance(a.sop));
      const [job] = await third.archive.queue.jobsOf(b.sop);
      assert.equal(job?.state, 'failed');
      assert.match(job?.lastError ?? '', /cache file missing/);
    } finally {
      await third.stop();
    }
  });
});
