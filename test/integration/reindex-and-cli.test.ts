// Recovery and the command line: temp files from a crash are removed on start,
// `reindex` rebuilds the index from the files, and the commands' exit codes.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { indexPath } from '../../storage/archive';
import { storeFiles } from '../../firmware/services/store-scu';
import { Cache } from '../../storage/cache';
import { Index } from '../../storage/index';
import { reindex } from '../../storage/reindex';
import { freePort, run, startBox, tempDir } from '../support/peers';
import { uid, writeSyntheticFile, writeSyntheticStudy } from '../support/synthetic';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');

describe('recovery and the command line', function () {
  this.timeout(60_000);

  it('removes temp files left by a crash when the box starts', async () => {
    const storageDir = tempDir('crash');
    await fs.mkdir(path.join(storageDir, 'tmp'), { recursive: true });
    await fs.writeFile(path.join(storageDir, 'tmp', 'interrupted.part'), 'half an instance');
    const box = await startBox({ storageDir });
    try {
      assert.deepEqual(await fs.readdir(path.join(storageDir, 'tmp')), []);
    } finally {
      await box.stop();
    }
  });

  it('rebuilds the index from the cache files, skipping files that are not instances', async () => {
    const box = await startBox();
    const dir = tempDir('reindex');
    const files = await writeSyntheticStudy(dir, 50, 4, { patientName: 'REINDEX^ME' });
    await storeFiles(
      { host: '127.0.0.1', port: box.port, callingAeTitle: 'T', calledAeTitle: 'DICOM_EDGE' },
      files,
      () => undefined,
    );
    await box.stop();
    const storageDir = box.config.storageDir;
    await fs.writeFile(path.join(storageDir, 'cache', 'stray.dcm'), 'not dicom');
    await fs.rm(indexPath(storageDir));
    const index = await Index.open(indexPath(storageDir));
    try {
      const report = await reindex(new Cache(storageDir), index, () => ['pacs']);
      assert.equal(report.indexed, 4);
      // A lost index loses no forwarding: every instance routed somewhere is queued there.
      assert.deepEqual(
        (await index.queue.jobsOf(uid(50, 1, 2))).map((j) => [j.destination, j.state]),
        [['pacs', 'queued']],
      );
      assert.deepEqual(
        report.skipped.map((s) => s.path),
        ['cache/stray.dcm'],
      );
      const row = await index.instances.getInstance(uid(50, 1, 3));
      assert.equal(row?.patientName, 'REINDEX^ME');
      assert.deepEqual(await index.instances.counts(), {
        patients: 1,
        studies: 1,
        series: 1,
        instances: 4,
      });
    } finally {
      await index.close();
    }
  });

  it('`echo` exits 0 on Success and non-zero when nobody answers', async () => {
    const box = await startBox();
    try {
      const ok = await run(BIN, ['echo', '127.0.0.1', String(box.port), '--aec', 'DICOM_EDGE']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /status 0x0000 \(success\)/);
    } finally {
      await box.stop();
    }
    const down = await run(BIN, ['echo', '127.0.0.1', String(await freePort())]);
    assert.equal(down.code, 3, 'exit 3: the peer could not be reached');
    assert.match(
      down.stderr,
      /^dicom-edge echo: connect ECONNREFUSED 127\.0\.0\.1:\d+: nothing listens there: check the host, the port and that the peer runs\n$/,
    );
  });

  it('common mistakes are one line with what to do and an exit code of their own, never a trace', async () => {
    const dir = tempDir('cli-mistakes');
    const box = await startBox();
    try {
      const missing = await run(BIN, [
        'store',
        '127.0.0.1',
        String(box.port),
        path.join(dir, 'nope.dcm'),
      ]);
      assert.equal(missing.code, 4, missing.stderr);
      assert.match(missing.stderr, /^dicom-edge store: .*nope\.dcm: no such file or folder\n$/);
      const file = path.join(dir, 'a-file');
      await fs.writeFile(file, 'x');
      const outIsFile = await run(BIN, [
        'get',
        '127.0.0.1',
        String(box.port),
        '--out',
        file,
        '-k',
        `StudyInstanceUID=${uid(1)}`,
      ]);
      assert.equal(outIsFile.code, 4, outIsFile.stderr);
      assert.match(
        outIsFile.stderr,
        /^dicom-edge get: .*a-file: it exists already, and not as a folder\n$/,
      );
      const config = path.join(dir, 'dicom-edge.json');
      await fs.writeFile(config, JSON.stringify({ storageDir: box.config.storageDir }));
      const badKey = await run(BIN, ['config', 'set', 'nodes.x.y=1', '--config', config]);
      assert.equal(badKey.code, 2, badKey.stderr);
      assert.match(
        badKey.stderr,
        /^dicom-edge config set: config key "nodes\.x\.y": is not a setting name \(KEY or SECTION\.KEY, e\.g\. cache\.keepDays\)\n$/,
      );
      for (const r of [missing, outIsFile, badKey]) assert.doesNotMatch(r.stderr, /\n\s+at /);
    } finally {
      await box.stop();
    }
  });

  it('`store` reports each file and exits non-zero when one failed', async () => {
    const box = await startBox();
    const dir = tempDir('cli-store');
    try {
      await writeSyntheticFile(path.join(dir, 'a.dcm'), {
        studyUid: uid(51),
        seriesUid: uid(51, 1),
        sopInstanceUid: uid(51, 1, 1),
      });
      const good = await run(BIN, ['store', '127.0.0.1', String(box.port), dir]);
      assert.equal(good.code, 0, good.stdout + good.stderr);
      assert.match(good.stdout, /OK {3}.*a\.dcm: 0x0000/);
      await fs.writeFile(path.join(dir, 'b.txt'), 'not DICOM');
      const mixed = await run(BIN, ['store', '127.0.0.1', String(box.port), dir]);
      assert.equal(mixed.code, 4, 'exit 4: a file is not DICOM');
      assert.match(mixed.stdout, /FAIL .*b\.txt: not sent - not a DICOM Part 10 file/);
      assert.match(mixed.stdout, /1 stored, 1 failed/);
    } finally {
      await box.stop();
    }
  });

  it('`commit` asks for storage commitment and prints the report; exit 1 when any failed', async () => {
    const box = await startBox({ commit: 'stored', commitTimeoutSeconds: 1 });
    const dir = tempDir('cli-commit');
    try {
      const stored = path.join(dir, 'stored.dcm');
      const missing = path.join(dir, 'missing.dcm');
      await writeSyntheticFile(stored, {
        studyUid: uid(52),
        seriesUid: uid(52, 1),
        sopInstanceUid: uid(52, 1, 1),
      });
      await writeSyntheticFile(missing, {
        studyUid: uid(52),
        seriesUid: uid(52, 1),
        sopInstanceUid: uid(52, 1, 2),
      });
      assert.equal((await run(BIN, ['store', '127.0.0.1', String(box.port), stored])).code, 0);
      const ok = await run(BIN, ['commit', '127.0.0.1', String(box.port), stored]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /event type 1, 1 committed, 0 failed/);
      const partly = await run(BIN, [
        'commit',
        '127.0.0.1',
        String(box.port),
        stored,
        missing,
        '--timeout',
        '10',
      ]);
      assert.equal(partly.code, 1);
      assert.match(
        partly.stdout,
        new RegExp(`FAILED +${uid(52, 1, 2).replace(/\./g, '\\.')} \\(reason 0x0112\\)`),
      );
    } finally {
      await box.stop();
    }
  });

  it('`start` refuses a bad config with the key and what is wrong, exit 2', async () => {
    const dir = tempDir('badconfig');
    const file = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(file, JSON.stringify({ port: 70000 }));
    const r = await run(BIN, ['start', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /config key "port": must be an integer from 0 to 65535/);
  });
});
