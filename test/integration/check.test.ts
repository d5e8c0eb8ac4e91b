// `dicom-edge check` against a running box: a missing file, a file of the wrong size, a
// file whose bytes changed (found with --digest) and a file no row lists are reported;
// --repair puts the damaged ones in quarantine, removes their rows (their jobs fail with
// the reason) and settles the stray file; afterwards index and files agree.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { storeFiles } from '../../firmware/services/store-scu';
import { BIN } from '../support/box-process';
import { run, startBox, tempDir } from '../support/peers';
import { uid, writeSyntheticStudy } from '../support/synthetic';

describe('dicom-edge check (index against files, on a running box)', function () {
  this.timeout(60_000);

  it('reports missing, wrong-size, wrong-digest and unindexed files; --repair repairs them', async () => {
    const box = await startBox({
      nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: 9, forward: true }],
      forwarding: { retryInitialSeconds: 600, retryMaxSeconds: 600 },
    });
    try {
      const files = await writeSyntheticStudy(tempDir('check'), 800, 5);
      const results = await storeFiles(
        { host: '127.0.0.1', port: box.port, callingAeTitle: 'M', calledAeTitle: 'DICOM_EDGE' },
        files,
        () => undefined,
      );
      assert.ok(results.every((r) => r.status === 0));
      const dir = box.config.storageDir;
      const pathOf = async (i: number): Promise<string> =>
        path.join(dir, (await box.archive.instance(uid(800, 1, i)))!.path);
      await fs.rm(await pathOf(1)); // lost
      await fs.truncate(await pathOf(2), 1000); // cut short
      const flipped = await fs.readFile(await pathOf(3));
      flipped[flipped.length - 1] ^= 0xff; // same size, other bytes
      await fs.writeFile(await pathOf(3), flipped);
      // A stray copy of instance 4 that no row lists, old enough not to be arriving.
      const stray = (await pathOf(4)).replace(/_[0-9a-f]{12}\.dcm$/, '_0123456789ab.dcm');
      await fs.copyFile(await pathOf(4), stray);
      const old = new Date(Date.now() - 3_600_000);
      await fs.utimes(stray, old, old);

      const config = path.join(tempDir('check-config'), 'dicom-edge.json');
      await fs.writeFile(config, JSON.stringify({ storageDir: dir }));
      const check = (...flags: string[]) =>
        run(process.execPath, [BIN, 'check', ...flags, '--config', config]);

      const quick = await check();
      assert.equal(quick.code, 1, quick.stderr);
      assert.match(quick.stdout, /^5 instances in the index, 5 files in the cache/);
      assert.match(
        quick.stdout,
        new RegExp(`missing file: +${uid(800, 1, 1).replace(/\./g, '\\.')}`),
      );
      assert.match(
        quick.stdout,
        new RegExp(`wrong size: +${uid(800, 1, 2).replace(/\./g, '\\.')}`),
      );
      assert.match(quick.stdout, /file not indexed: cache\/.*_0123456789ab\.dcm/);
      assert.doesNotMatch(quick.stdout, /wrong digest/, 'without --digest, contents are not read');

      const deep = await check('--digest');
      assert.match(
        deep.stdout,
        new RegExp(`wrong digest: +${uid(800, 1, 3).replace(/\./g, '\\.')}`),
      );

      const repaired = await check('--digest', '--repair');
      assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
      assert.match(repaired.stdout, /4 problem\(s\) repaired/);
      const after = await check('--digest');
      assert.equal(after.code, 0, after.stdout);
      assert.match(
        after.stdout,
        /^2 instances in the index, 2 files in the cache.*\nindex and files agree\n$/,
      );
      const [job] = await box.archive.queue.jobsOf(uid(800, 1, 2));
      assert.equal(job?.state, 'failed');
      assert.match(job?.lastError ?? '', /damaged/);
      assert.equal((await fs.readdir(path.join(dir, 'quarantine'))).length, 2);
    } finally {
      await box.stop();
    }
  });
});
