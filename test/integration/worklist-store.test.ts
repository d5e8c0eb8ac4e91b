// The worklist copy in the index itself (schema 008): a replication adds, changes and
// marks items seen; a complete one removes what the source no longer lists; pages come in
// schedule order whatever the copy's size; an instance finds its item by Accession Number,
// else by Study Instance UID; the replication's state and the checks' findings are kept.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Tag } from '../../firmware/dicom/registry/tags';
import { Index } from '../../storage/index';
import { WORKLIST_ATTRIBUTES, type WorklistValues } from '../../storage/worklist-attributes';
import type { WorklistItemRecord } from '../../storage/worklist';
import { tempDir } from '../support/peers';

const EMPTY = Object.fromEntries(WORKLIST_ATTRIBUTES.map((a) => [a.name, ''])) as WorklistValues;

function item(key: string, values: Partial<WorklistValues>, content = key): WorklistItemRecord {
  const dataset = Buffer.from(content);
  return {
    key,
    digest: createHash('sha256').update(dataset).digest('hex'),
    dataset,
    specificCharacterSet: '',
    values: { ...EMPTY, ...values },
  };
}

describe('the worklist copy in the index', () => {
  let index: Index;
  beforeEach(async () => {
    index = await Index.open(path.join(tempDir('wl-store'), 'index.sqlite'));
  });
  afterEach(async () => index.close());

  it('a replication adds, a later one changes and keeps, and a complete one removes the unlisted', async () => {
    const store = index.worklist;
    const first = await store.beginSweep('ris', '2026-01-01T08:00:00.000Z');
    const a = item('A', { patientName: 'DOE^JANE', spsStartDate: '20260101' });
    const b = item('B', { patientName: 'ROE^RICHARD', spsStartDate: '20260101' });
    assert.deepEqual(await store.upsert(first, [a, b], '2026-01-01T08:00:00.000Z'), {
      added: 2,
      changed: 0,
    });
    assert.equal(await store.removeUnseen(first), 0);

    const second = await store.beginSweep('ris', '2026-01-01T08:01:00.000Z');
    assert.equal(second, first + 1);
    const a2 = item('A', { patientName: 'DOE^JANE', spsStartDate: '20260101' }, 'A changed');
    // B listed twice by two queries of one replication: counted once, as unchanged.
    assert.deepEqual(await store.upsert(second, [a2, b, b], '2026-01-01T08:01:00.000Z'), {
      added: 0,
      changed: 1,
    });
    assert.equal(await store.removeUnseen(second), 0);

    const third = await store.beginSweep('ris', '2026-01-01T08:02:00.000Z');
    await store.upsert(third, [a2], '2026-01-01T08:02:00.000Z');
    assert.equal(await store.removeUnseen(third), 1, 'B is no longer listed');
    const [only] = await store.page(null, 10);
    assert.equal(only!.key, 'A');
    assert.equal(only!.firstSeenAt, '2026-01-01T08:00:00.000Z');
    assert.equal(only!.changedAt, '2026-01-01T08:01:00.000Z');
    assert.equal(only!.lastSeenAt, '2026-01-01T08:02:00.000Z');
    assert.equal(only!.dataset.toString(), 'A changed');
  });

  it('pages come in schedule order and a date window narrows them', async () => {
    const store = index.worklist;
    const sweep = await store.beginSweep('ris', '2026-01-01T08:00:00.000Z');
    const items = [
      item('late', { spsStartDate: '20260102', spsStartTime: '0900' }),
      item('early', { spsStartDate: '20260101', spsStartTime: '1400' }),
      item('first', { spsStartDate: '20260101', spsStartTime: '0800' }),
      item('same-time', { spsStartDate: '20260101', spsStartTime: '1400' }),
    ];
    await store.upsert(sweep, items, '2026-01-01T08:00:00.000Z');
    const keys: string[] = [];
    for (let page = await store.page(null, 2); page.length > 0;) {
      keys.push(...page.map((i) => i.key));
      const last = page[page.length - 1]!;
      page = await store.page(
        { date: last.values.spsStartDate, time: last.values.spsStartTime, pk: last.pk },
        2,
      );
    }
    assert.deepEqual(keys, ['first', 'early', 'same-time', 'late']);
    const day = await store.page(null, 10, { from: '20260102', to: '20260102' });
    assert.deepEqual(
      day.map((i) => i.key),
      ['late'],
    );
  });

  it('an instance finds its item by Accession Number, else by Study Instance UID', async () => {
    const store = index.worklist;
    const sweep = await store.beginSweep('ris', '2026-01-01T08:00:00.000Z');
    await store.upsert(
      sweep,
      [
        item('x', { accessionNumber: 'ACC1', studyInstanceUid: '1.2.3' }),
        item('y', { accessionNumber: '', studyInstanceUid: '1.2.4' }),
      ],
      '2026-01-01T08:00:00.000Z',
    );
    assert.equal((await store.itemFor('ACC1', '9.9'))?.item.key, 'x');
    assert.equal((await store.itemFor('ACC1', '9.9'))?.matchedBy, 'accession');
    assert.equal((await store.itemFor('', '1.2.4'))?.matchedBy, 'study');
    assert.equal((await store.itemFor('NOPE', '1.2.4'))?.item.key, 'y');
    assert.equal(await store.itemFor('', ''), undefined);
  });

  it('the state of the replication survives a reopening of the index', async () => {
    const file = path.join(tempDir('wl-state'), 'index.sqlite');
    let reopened = await Index.open(file);
    await reopened.worklist.beginSweep('ris', '2026-01-01T08:00:00.000Z');
    await reopened.worklist.recordSuccess('2026-01-01T08:00:01.000Z', true);
    await reopened.worklist.recordFailure('2026-01-01T09:00:00.000Z', 'connection refused');
    await reopened.worklist.recordFailure('2026-01-01T09:01:00.000Z', 'timed out');
    await reopened.close();
    reopened = await Index.open(file);
    try {
      assert.deepEqual(await reopened.worklist.state(), {
        source: 'ris',
        sweep: 1,
        lastSuccessAt: '2026-01-01T08:00:01.000Z',
        lastAttemptAt: '2026-01-01T08:00:00.000Z',
        failingSince: '2026-01-01T09:00:00.000Z',
        lastError: 'timed out',
        truncated: true,
      });
      await reopened.worklist.recordSuccess('2026-01-01T09:02:00.000Z', false);
      const state = await reopened.worklist.state();
      assert.equal(state.failingSince, null);
      assert.equal(state.lastError, null);
    } finally {
      await reopened.close();
    }
  });

  it('a mismatch keeps its coerced elements as bytes, and a clean re-send clears it', async () => {
    const store = index.worklist;
    const value = Buffer.from([0x1b, 0x24, 0x42, 0x3b, 0x33, 0x45, 0x44, 0x20]);
    await store.recordMismatch({
      sopInstanceUid: '1.2.3.4',
      studyInstanceUid: '1.2.3',
      accessionNumber: 'ACC1',
      callingAe: 'CT1',
      receivedAt: '2026-01-01T10:00:00.000Z',
      matchedBy: 'accession',
      itemKey: 'x',
      differences: [{ attribute: 'PatientName', received: 'DOE^JON', scheduled: 'DOE^JOHN' }],
      coercion: [{ tag: Tag.PatientName, vr: 'PN', value }],
      note: null,
    });
    assert.deepEqual(await store.coercionFor('1.2.3.4'), [
      { tag: Tag.PatientName, vr: 'PN', value },
    ]);
    const [listed] = await store.mismatches(10);
    assert.equal(listed!.differences[0]!.scheduled, 'DOE^JOHN');
    assert.equal(await store.mismatchCount(), 1);
    await store.clearMismatch('1.2.3.4');
    assert.equal(await store.coercionFor('1.2.3.4'), undefined);
  });
});
