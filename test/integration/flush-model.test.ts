// The flush model that `make bench` preloads into the box and Orthanc (issue 26): it must
// see every flush Node makes — fsync and fdatasync from libuv's thread pool, several at
// once, and on the main thread — and a child's too, slow each by its delay, and leave the
// real call's result alone. Otherwise the benchmark's flushes per instance would be wrong.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { buildFlushModel, FlushCounter } from '../../scripts/flush-model/flush-model';
import { tempDir } from '../support/peers';

/** What the node process under the model runs: prints each step's milliseconds as JSON. */
const SCRIPT = `
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const dir = process.argv[1];
const out = {};
const timed = async (name, fn) => { const t = Date.now(); await fn(); out[name] = Date.now() - t; };
(async () => {
  const h = await fs.promises.open(dir + '/a', 'w');
  await h.write('data');
  await timed('fsync', () => h.sync());
  await timed('fdatasync', () => h.datasync());
  await h.close();
  await timed('four at once', () => Promise.all([1, 2, 3, 4].map(async () => {
    const f = await fs.promises.open(dir + '/a', 'r');
    await f.sync();
    await f.close();
  })));
  await timed('main thread', () => { const fd = fs.openSync(dir, 'r'); fs.fsyncSync(fd); fs.closeSync(fd); });
  await timed('child', () => execFileSync('sync'));
  try { fs.fsyncSync(987654); } catch (err) { out.badFd = err.code; }
  process.stdout.write(JSON.stringify(out));
})();
`;

describe('the flush model (scripts/flush-model)', function () {
  this.timeout(60_000);

  it("counts and slows Node's fsync and fdatasync, from the thread pool and a child", async () => {
    const dir = tempDir('flush-model');
    try {
      const counter = new FlushCounter(buildFlushModel(dir), path.join(dir, 'count'), 50);
      const child = spawn(process.execPath, ['-e', SCRIPT, dir], {
        env: { ...process.env, ...counter.env() },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const code = await new Promise((r) => child.once('exit', r));
      assert.equal(code, 0);
      const ms = JSON.parse(stdout) as Record<string, number | string>;

      assert.deepEqual(counter.calls(), {
        fsync: 1 + 4 + 1 + 1, // the last: the failed one on a bad descriptor
        fdatasync: 1,
        syncfs: 0,
        sync: 1, // `sync`, a child: the preload and the count file are inherited
        syncFileRange: 0,
      });
      assert.equal(counter.flushes(), 9);
      for (const step of ['fsync', 'fdatasync', 'four at once', 'main thread', 'child'])
        assert.ok(Number(ms[step]) >= 50, `${step} took ${ms[step]} ms, the model's 50 at least`);
      // The four ran on libuv's four threads, each sleeping at once, not one after another.
      assert.ok(Number(ms['four at once']) < 4 * 50, `four at once took ${ms['four at once']} ms`);
      assert.equal(ms.badFd, 'EBADF', "the real call's error reaches the caller");
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
