// A worklist source that answers badly (issue 29), played by a fake SCP on the project's
// own association layer: identifiers that do not parse are skipped and counted while the
// good items are kept; bytes that are no PDU, a failure status or silence fail the
// replication and leave the copy served as it was; a hundred-MB answer streams into the
// index in bounded memory; more items than worklist.maxItems are cut there with a log line
// that says so, the source told to stop (C-CANCEL) and cut off when it does not.
import { strict as assert } from 'node:assert';
import type { Config } from '../../firmware/config/config';
import { controlRequest } from '../../firmware/control/control-client';
import type { RefreshResult } from '../../firmware/worklist/worklist';
import { onLogLine } from '../../firmware/log';
import { Tag } from '../../firmware/dicom/registry/tags';
import { encodeDataset } from '../../firmware/dicom/dataset/dataset-writer';
import { localDate } from '../../firmware/worklist/replication';
import { fakeItem, startFakeWorklistScp, type FakeWorklistScp } from '../support/fake-worklist-scp';
import { startBox, type TestBox } from '../support/peers';
import { findscuW } from '../support/worklist-peers';

const today = localDate(new Date());
const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

describe('a worklist source answering badly (issue 29)', function () {
  this.timeout(300_000);
  let source: FakeWorklistScp;
  let box: TestBox;
  const logged: string[] = [];
  let unsubscribe: () => void;

  async function boxWith(worklist: Partial<Config['worklist']> = {}): Promise<TestBox> {
    return startBox({
      nodes: [
        {
          name: 'ris',
          ae: 'RIS',
          host: '127.0.0.1',
          port: source.port,
          forward: false,
          worklistSource: true,
        },
      ],
      worklist: {
        intervalSeconds: 3600,
        maxAgeSeconds: 86400,
        timeoutSeconds: 2,
        maxItems: 10_000,
        query: { stationAeTitles: [], modalities: [], daysBefore: 0, daysAfter: 0 },
        checks: [],
        ...worklist,
      },
    });
  }
  const refresh = async (): Promise<RefreshResult> =>
    (await controlRequest(box.config.storageDir, { command: 'worklist-refresh' }, 300_000)).refresh;
  const count = async (): Promise<number> =>
    (await controlRequest(box.config.storageDir, { command: 'worklist' })).status!.items;

  beforeEach(async () => {
    source = await startFakeWorklistScp();
    logged.length = 0;
    unsubscribe = onLogLine((line) => logged.push(line));
  });
  afterEach(async () => {
    unsubscribe();
    await box?.stop();
    await source.stop();
  });

  it('skips identifiers that do not parse or are no item, keeps the good ones, and says so', async () => {
    source.script = async (a) => {
      await a.pending(fakeItem(1, today));
      await a.pending(Buffer.from([0x10, 0x00, 0x10, 0x00, 0x50, 0x4e, 0xff, 0x00, 0x41])); // overruns
      await a.pending(Buffer.from('not a data set at all, just text.'));
      // A data set, but no Scheduled Procedure Step Sequence.
      await a.pending(encodeDataset([{ tag: Tag.PatientId, vr: 'LO', value: 'X' }], EXPLICIT_LE));
      await a.pending(fakeItem(2, today));
      await a.final(0);
    };
    box = await boxWith();
    const r = await refresh();
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.ok && r.replicated.items, 2);
    assert.equal(r.ok && r.replicated.skipped, 3);
    assert.equal(logged.filter((l) => l.includes('worklist item skipped')).length, 3);
    assert.ok(logged.some((l) => /no item in its Scheduled Procedure Step Sequence/.test(l)));
    const served = await findscuW(box.port, 'DICOM_EDGE', ['AccessionNumber']);
    assert.equal(served.matches.length, 2);
  });

  it('bytes that are no PDU, a failure status or silence: the replication fails, the copy stays served', async () => {
    source.script = async (a) => {
      await a.pending(fakeItem(1, today));
      await a.final(0);
    };
    box = await boxWith();
    assert.ok((await refresh()).ok);
    const cases: Array<[string, FakeWorklistScp['script'], RegExp]> = [
      [
        'garbage on the socket',
        async (a) => {
          await a.pending(fakeItem(5, today));
          a.raw(Buffer.from('\x09\x00\x00\x00\x00\x02garbage that is no PDU', 'latin1'));
        },
        /broke off/,
      ],
      ['a failure status', async (a) => a.final(0xa700), /answered 0xA700 \(failure\)/],
      ['silence', async () => new Promise<void>(() => undefined), /no answer for 2 s/],
      ['an abort', async (a) => a.abort(), /broke off/],
    ];
    for (const [what, script, reason] of cases) {
      source.script = script;
      const r = await refresh();
      assert.equal(r.ok, false, what);
      assert.match(!r.ok ? r.reason : '', reason, what);
      const s = (await controlRequest(box.config.storageDir, { command: 'worklist' })).status!;
      assert.equal(s.state, 'stale', what);
      const served = await findscuW(box.port, 'DICOM_EDGE', ['AccessionNumber']);
      assert.equal(served.code, 0, `${what}: ${served.output}`);
      assert.ok(served.matches.length >= 1, what);
    }
    assert.equal(
      logged.filter((l) => l.includes('worklist source not answering')).length,
      1,
      'said once, when it began',
    );
  });

  it('a hundred-MB answer streams into the index: the heap does not grow with it', async () => {
    const items = 25_000;
    const padding = 4000; // about 4 KB an item: 100 MB in all
    source.script = async (a) => {
      for (let n = 0; n < items; n++) await a.pending(fakeItem(n, today, padding));
      await a.final(0);
    };
    box = await boxWith({ maxItems: 100_000, timeoutSeconds: 60 });
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 10);
    let r: RefreshResult;
    try {
      r = await refresh();
    } finally {
      clearInterval(sampler);
    }
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.ok && r.replicated.items, items);
    assert.equal(await count(), items);
    const grown = (peak - before) / 1e6;
    // Buffered whole, the answer alone would be 100 MB.
    assert.ok(grown < 40, `heap grew ${grown.toFixed(1)} MB`);
  });

  it('more items than worklist.maxItems: the first kept, the source cancelled, the log says so', async () => {
    for (const rude of [false, true]) {
      source.script = async (a) => {
        for (let n = 0; n < 50_000; n++) {
          if (a.cancelled && !rude) return a.final(0xfe00);
          await a.pending(fakeItem(n, today));
        }
        await a.final(0);
      };
      box = await boxWith({ maxItems: 1000 });
      const started = Date.now();
      const r = await refresh();
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.ok && r.replicated.items, 1000);
      assert.equal(r.ok && r.replicated.truncated, true);
      assert.equal(await count(), 1000);
      assert.ok(source.cancels >= 1, 'C-CANCEL sent');
      // A rude source is cut off after the grace; a polite one stops at once.
      assert.ok(Date.now() - started < (rude ? 30_000 : 10_000), `${Date.now() - started} ms`);
      assert.ok(
        logged.some((l) =>
          /worklist source lists more items than worklist.maxItems: the first kept, the rest ignored .*maxItems=1000/.test(
            l,
          ),
        ),
      );
      const s = (await controlRequest(box.config.storageDir, { command: 'worklist' })).status!;
      assert.equal(s.truncated, true);
      await box.stop();
    }
  });
});
