// A replication whose index fails under it (closed, broken, a full disk) is a failed
// replication, said in the log and tried again at the next interval; it must not reject
// refresh(), whose timer's caller nobody awaits: an unhandled rejection ends the process,
// and with it the box's receiving, for a worklist that is only a convenience.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { validateConfig } from '../../firmware/config/config';
import { Worklist } from '../../firmware/worklist/worklist';
import { Index } from '../../storage/index';
import { tempDir } from '../support/peers';

const CONFIG = validateConfig({
  nodes: [
    { name: 'ris', ae: 'RIS', host: '127.0.0.1', port: 9, forward: false, worklistSource: true },
  ],
});

describe('the worklist when its index fails under a replication', () => {
  it('refresh() resolves with the reason instead of rejecting', async () => {
    const index = await Index.open(path.join(tempDir('wl-index-failure'), 'index.sqlite'));
    await index.close();
    const worklist = new Worklist(index.worklist, () => CONFIG);
    const result = await worklist.refresh();
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.reason.length > 0);
  });

  it('the timer goes on replicating after a failed one, and nothing is left unhandled', async () => {
    const index = await Index.open(path.join(tempDir('wl-index-failure'), 'index.sqlite'));
    await index.close();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const config = validateConfig({
      ...CONFIG,
      worklist: { ...CONFIG.worklist, intervalSeconds: 1 },
    });
    const worklist = new Worklist(index.worklist, () => config);
    let refreshes = 0;
    const refresh = worklist.refresh.bind(worklist);
    worklist.refresh = () => (refreshes++, refresh());
    try {
      worklist.start();
      const deadline = Date.now() + 10_000;
      while (refreshes < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setImmediate(r));
      assert.equal(refreshes >= 2, true, `replications tried: ${refreshes}`);
      assert.deepEqual(unhandled, []);
    } finally {
      await worklist.stop();
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
