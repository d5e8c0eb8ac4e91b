// The forward queue in the index: jobs are written with the instance, served oldest study
// first with a study's instances together, and never deleted.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Index, type InstanceRecord } from '../../storage/index';
import { tempDir } from '../support/peers';
import { instanceRecord } from '../support/records';

function record(
  study: number,
  n: number,
  forwardTo: string[],
  digest = `d${study}.${n}`,
): InstanceRecord {
  return instanceRecord(
    {
      studyInstanceUid: `1.2.${study}`,
      seriesInstanceUid: `1.2.${study}.0`,
      sopInstanceUid: `1.2.${study}.${n}`,
    },
    {
      receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
      attributes: { instanceNumber: String(n) },
      digest,
      forwardTo,
    },
  );
}

describe('forward queue (index)', () => {
  let index: Index;
  beforeEach(async () => {
    index = await Index.open(path.join(tempDir('queue'), 'index.sqlite'));
  });
  afterEach(async () => index.close());

  it('serves the oldest study first, its instances together, even when studies interleave', async () => {
    // Arrival: A1, B1, A2, B2, A3
    for (const [s, n] of [
      [1, 1],
      [2, 1],
      [1, 2],
      [2, 2],
      [1, 3],
    ] as const)
      await index.instances.storeInstance(record(s, n, ['pacs']));
    const jobs = await index.queue.queuedJobs('pacs', 10);
    assert.deepEqual(
      jobs.map((j) => j.sopInstanceUid),
      ['1.2.1.1', '1.2.1.2', '1.2.1.3', '1.2.2.1', '1.2.2.2'],
    );
    assert.deepEqual(await index.queue.queuedJobs('other', 10), []);
  });

  it('keeps done and failed jobs, requeues failed ones on request, per destination', async () => {
    await index.instances.storeInstance(record(1, 1, ['a', 'b']));
    const [a] = await index.queue.queuedJobs('a', 10);
    const [b] = await index.queue.queuedJobs('b', 10);
    await index.queue.finishJobs([a!], { state: 'done', status: 0 });
    await index.queue.finishJobs([b!], { state: 'failed', status: 0x0122, error: 'refused' });
    assert.deepEqual(
      (await index.queue.jobsOf('1.2.1.1')).map((j) => [j.destination, j.state, j.lastStatus]),
      [
        ['a', 'done', 0],
        ['b', 'failed', 0x0122],
      ],
    );
    assert.deepEqual(await index.queue.requeueFailed({ destination: 'a' }), []);
    assert.deepEqual(await index.queue.requeueFailed({ destination: 'b' }), [
      { sopInstanceUid: '1.2.1.1', destination: 'b' },
    ]);
    assert.deepEqual(
      (await index.queue.queuedJobs('b', 10)).map((j) => j.sopInstanceUid),
      ['1.2.1.1'],
    );
    const summary = await index.queue.forwardSummary();
    assert.deepEqual(
      summary.map((s) => [s.destination, s.queued, s.done, s.failed]),
      [
        ['a', 0, 1, 0],
        ['b', 1, 0, 0],
      ],
    );
  });

  it('does not requeue a delivered job for an identical re-send, does for changed content', async () => {
    await index.instances.storeInstance(record(1, 1, ['a']));
    const [job] = await index.queue.queuedJobs('a', 10);
    await index.queue.finishJobs([job!], { state: 'done', status: 0 });
    await index.instances.storeInstance(record(1, 1, ['a']));
    assert.equal((await index.queue.queuedJobs('a', 10)).length, 0);
    await index.instances.storeInstance(record(1, 1, ['a'], 'other-digest'));
    assert.equal((await index.queue.queuedJobs('a', 10)).length, 1);
  });

  it('does not mark a job delivered or failed when the instance was replaced by other content while it was sent', async () => {
    await index.instances.storeInstance(record(1, 1, ['a', 'b']));
    const [a] = await index.queue.queuedJobs('a', 10);
    const [b] = await index.queue.queuedJobs('b', 10);
    // A corrected copy arrives while the first one is on its way to both destinations.
    await index.instances.storeInstance({
      ...record(1, 1, ['a', 'b'], 'corrected'),
      path: 'cache/1.2.1/1.2.1.0/1.2.1.1_0123456789ab.dcm',
    });
    assert.deepEqual(await index.queue.finishJobs([a!], { state: 'done', status: 0 }), [a!.pk]);
    assert.deepEqual(
      await index.queue.finishJobs([b!], { state: 'failed', status: 0x0122, error: 'refused' }),
      [b!.pk],
    );
    for (const dest of ['a', 'b']) {
      const jobs = await index.queue.queuedJobs(dest, 10);
      assert.deepEqual(
        jobs.map((j) => j.path),
        ['cache/1.2.1/1.2.1.0/1.2.1.1_0123456789ab.dcm'],
        `${dest}: the corrected copy is still to send`,
      );
    }
    // The copy sent is the one the cache has: marked.
    const [again] = await index.queue.queuedJobs('a', 10);
    assert.deepEqual(await index.queue.finishJobs([again!], { state: 'done', status: 0 }), []);
    assert.equal(
      (await index.queue.jobsOf('1.2.1.1')).find((j) => j.destination === 'a')?.state,
      'done',
    );
  });
});
