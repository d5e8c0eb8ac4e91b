// Group commit of directory entries (storage/cache.ts SharedDirSync): callers that ask
// while an fsync of their directory is in flight share the next one, which starts only
// after that ends — so every caller waits for an fsync begun after it asked.
import { strict as assert } from 'node:assert';
import { SharedDirSync } from '../../storage/cache';

function fakeFsync(): {
  fsync: (dir: string) => Promise<void>;
  started: string[];
  finish: () => void;
} {
  const started: string[] = [];
  const pending: Array<() => void> = [];
  return {
    started,
    fsync: (dir) => {
      started.push(dir);
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    finish: () => pending.shift()?.(),
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('directory fsyncs shared by concurrent renames', () => {
  it('one caller: one fsync', async () => {
    const f = fakeFsync();
    const sync = new SharedDirSync(f.fsync);
    const done = sync.sync('/a');
    f.finish();
    await done;
    assert.deepEqual(f.started, ['/a']);
  });

  it('callers arriving during an fsync share one more, begun after it; not the one in flight', async () => {
    const f = fakeFsync();
    const sync = new SharedDirSync(f.fsync);
    let firstDone = false;
    const laterDone: boolean[] = [];
    const first = sync.sync('/a').then(() => (firstDone = true));
    const later = [1, 2, 3, 4].map((i) => sync.sync('/a').then(() => (laterDone[i] = true)));
    await tick();
    assert.deepEqual(f.started, ['/a'], 'the next fsync waits for the one in flight');
    f.finish();
    await first;
    await tick();
    assert.equal(firstDone, true);
    assert.deepEqual(laterDone.filter(Boolean), [], 'the later callers still wait');
    assert.deepEqual(f.started, ['/a', '/a'], 'one shared fsync for the four');
    f.finish();
    await Promise.all(later);
    assert.equal(f.started.length, 2);
  });

  it('different directories do not wait for each other', async () => {
    const f = fakeFsync();
    const sync = new SharedDirSync(f.fsync);
    void sync.sync('/a');
    void sync.sync('/b');
    await tick();
    assert.deepEqual(f.started, ['/a', '/b']);
    f.finish();
    f.finish();
  });
});
