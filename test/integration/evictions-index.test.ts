// What may be evicted, rule by rule, in the index itself: one study per case, and the
// candidates are exactly the studies every rule lets go, least recently used first.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Index } from '../../storage/index';
import { tempDir } from '../support/peers';
import { instanceRecord } from '../support/records';

const LONG_AGO = '2020-01-01T00:00:00.000Z';

describe('eviction rules in the index', () => {
  let index: Index;
  before(async () => {
    index = await Index.open(path.join(tempDir('evict-rules'), 'index.sqlite'));
  });
  after(async () => index.close());

  /** Study n with one instance, routed to `forwardTo`, received at `at`. */
  async function study(n: number, forwardTo: string[], at = LONG_AGO): Promise<string> {
    const uids = {
      studyInstanceUid: `1.2.${n}`,
      seriesInstanceUid: `1.2.${n}.1`,
      sopInstanceUid: `1.2.${n}.1.1`,
    };
    await index.instances.storeInstance(
      instanceRecord(uids, {
        forwardTo,
        receivedAt: at,
        path: `cache/1.2.${n}/1.2.${n}.1/x${n}.dcm`,
      }),
    );
    return uids.sopInstanceUid;
  }

  /** Marks the instance's job to `destination` delivered; resolves with the job's key. */
  async function deliver(sop: string, destination: string): Promise<number> {
    const job = (await index.queue.queuedJobs(destination, 100)).find(
      (j) => j.sopInstanceUid === sop,
    )!;
    await index.queue.finishJobs([job], { state: 'done', status: 0 });
    return job.pk;
  }

  it('lets go only of studies delivered everywhere, committed where asked, not protected, not in use', async () => {
    const delivered = await study(1, ['pacs']);
    await deliver(delivered, 'pacs');
    await study(2, []); // routed nowhere: the only copy
    await study(3, ['pacs']); // queued
    const failed = await study(4, ['pacs']);
    const job = (await index.queue.queuedJobs('pacs', 100)).find(
      (j) => j.sopInstanceUid === failed,
    )!;
    await index.queue.finishJobs([job], { state: 'failed', status: 0x0122, error: 'refused' });
    const twoWays = await study(5, ['pacs', 'archive']);
    await deliver(twoWays, 'pacs'); // the archive still waits
    // Study 6: asked to commit, not committed yet; study 7: committed.
    const uncommitted = await study(6, ['pacs']);
    const pk6 = await deliver(uncommitted, 'pacs');
    const committedLater = await study(7, ['pacs']);
    const pk7 = await deliver(committedLater, 'pacs');
    await index.queue.markCommitRequested([pk6, pk7], '1.2.777');
    await index.queue.applyCommitReport('1.2.777', [committedLater], []);
    const protectedOne = await study(8, ['pacs']);
    await deliver(protectedOne, 'pacs');
    assert.equal(await index.evictions.protect('1.2.8', true), true);
    const inCommitment = await study(9, ['pacs']);
    await deliver(inCommitment, 'pacs');
    await index.commitments.createCommitment({
      transactionUid: '1.2.999',
      requesterAe: 'MOD',
      createdAt: LONG_AGO,
      deadline: '2999-01-01T00:00:00.000Z',
      items: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: inCommitment }],
    });
    const recent = await study(10, ['pacs'], new Date().toISOString());
    await deliver(recent, 'pacs');

    const inUseCutoff = new Date(Date.now() - 60_000).toISOString();
    const candidates = await index.evictions.candidates(inUseCutoff, 100);
    assert.deepEqual(
      candidates.map((c) => c.studyInstanceUid),
      ['1.2.1', '1.2.7'],
    );
    const pinned = new Map((await index.evictions.pinned(100)).map((p) => [p.studyInstanceUid, p]));
    assert.equal(pinned.get('1.2.2')?.onlyCopy, 1);
    assert.equal(pinned.get('1.2.3')?.undelivered, 1);
    assert.equal(pinned.get('1.2.4')?.failed, 1);
    assert.equal(pinned.get('1.2.5')?.undelivered, 1);
    assert.equal(pinned.get('1.2.6')?.uncommitted, 1);
    assert.equal(pinned.get('1.2.8')?.protected, true);
    assert.equal(pinned.get('1.2.9')?.inCommitment, 1);
    assert.ok(!pinned.has('1.2.10'), 'in use, but not pinned: it may go once used long enough ago');
    // An eviction removes the rows and lists the files, in one transaction.
    assert.deepEqual(await index.evictions.removeStudy('1.2.1', inUseCutoff), [
      'cache/1.2.1/1.2.1.1/x1.dcm',
    ]);
    assert.equal(await index.instances.getInstance(delivered), undefined);
    assert.deepEqual(await index.instances.unlistedFiles(10), ['cache/1.2.1/1.2.1.1/x1.dcm']);
    const usage = await index.evictions.usage();
    assert.deepEqual([usage.studies, usage.instances, usage.pinnedStudies], [9, 9, 7]);
    assert.equal(usage.pinnedBytes, 7 * 1000);
    // A pinned study is not removed even when asked for by name.
    assert.equal(await index.evictions.removeStudy('1.2.3', inUseCutoff), null);
  });
});
