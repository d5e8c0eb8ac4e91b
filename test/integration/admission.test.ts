// Admission on the disk as it is when a C-STORE arrives (issue 24, points 1-2), on real
// small filesystems the test mounts as root: studies back to back never meet ENOSPC while
// delivered studies may be evicted; the refusal of a full disk lifts on the very next
// C-STORE once space returns; and every figure of the disk (status, `cache`, the metrics,
// eviction) is the one df shows the service's user, on an ext4 with root's 5 % reserve.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { CacheReport } from '../../storage/archive';
import { controlRequest } from '../../firmware/control/control-client';
import type { BoxStatus } from '../../firmware/control/status';
import { Status } from '../../firmware/dicom/dimse/status';
import { storeFiles } from '../../firmware/services/store-scu';
import { diskUse } from '../../storage/disk-use';
import { freePort, startBox, tempDir, type TestBox } from '../support/peers';
import { startPoisonScp, type PoisonScp } from '../support/poison-scp';
import { writeSyntheticFile, writeSyntheticStudy, uid } from '../support/synthetic';
import { mountExt4, mountTmpfs, requireRoot, unmount } from '../support/mounts';
import { waitFor } from '../support/wait';

const MB = 2 ** 20;

async function send(port: number, files: readonly string[]): Promise<Array<string>> {
  const results = await storeFiles(
    { host: '127.0.0.1', port, callingAeTitle: 'MODALITY', calledAeTitle: 'DICOM_EDGE' },
    files,
    () => undefined,
  );
  return results.map((r) => (r.status === Status.Success ? 'ok' : `${r.status}: ${r.error}`));
}

describe('admission: each C-STORE on the disk as it is when it arrives', function () {
  this.timeout(240_000);
  let mount: string | undefined;
  let box: TestBox | undefined;
  let scp: PoisonScp | undefined;
  afterEach(async () => {
    await box?.stop();
    await scp?.down();
    if (mount) unmount(mount);
    box = scp = mount = undefined;
  });

  it('studies back to back, two modalities at once, on a 96 MB ext4: every C-STORE Success, never ENOSPC, delivered studies evicted in time', async () => {
    requireRoot('the admission tests');
    mount = tempDir('ext4-admit');
    mountExt4(mount, 96);
    scp = await startPoisonScp(new Set());
    box = await startBox({
      storageDir: path.join(mount, 'var'),
      forwarding: { retryInitialSeconds: 0.2, retryMaxSeconds: 0.5, idleSeconds: 2 },
      nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: scp.port, forward: true }],
      cache: { evictAbovePercent: 70, evictToPercent: 50, minFreeBytes: 4 * MB, inUseSeconds: 2 },
    });
    const dir = tempDir('admit-files');
    // 2 x 12 studies of six 1 MB instances: 144 MB through a 96 MB disk, with no pause.
    const studies = async (first: number): Promise<string[][]> => {
      const all: string[][] = [];
      for (let n = first; n < first + 12; n++)
        all.push(await writeSyntheticStudy(dir, n, 6, { rows: 1024, columns: 512 }));
      return all;
    };
    const [a, b] = [await studies(900), await studies(950)];
    const modality = async (list: string[][]): Promise<string[]> => {
      const outcomes: string[] = [];
      for (const files of list) outcomes.push(...(await send(box!.port, files)));
      return outcomes;
    };
    const outcomes = (await Promise.all([modality(a), modality(b)])).flat();
    assert.deepEqual(
      outcomes.filter((o) => o !== 'ok'),
      [],
      'every C-STORE acknowledged',
    );
    assert.equal(outcomes.length, 144);
    assert.ok(box.archive.evicted.studies > 0, 'delivered studies were evicted to make room');
    await waitFor('all delivered', async () => (await box!.forwarder.report())[0]!.done === 144);
  });

  it('a full tmpfs, a file deleted: the very next C-STOREs, ten at once, are accepted', async () => {
    requireRoot('the admission tests');
    mount = tempDir('tmpfs-admit');
    mountTmpfs(mount, '40m');
    // Nothing may be evicted (no destination delivers), and the evictor looks only every 5 s.
    box = await startBox({
      storageDir: path.join(mount, 'var'),
      cache: { minFreeBytes: 2 * MB, inUseSeconds: 60 },
    });
    const dir = tempDir('admit-full');
    const files: string[] = [];
    for (let i = 1; i <= 11; i++) {
      const f = path.join(dir, `i${i}.dcm`);
      await writeSyntheticFile(f, {
        studyUid: uid(980),
        seriesUid: uid(980, 1),
        sopInstanceUid: uid(980, 1, i),
        rows: 256,
        columns: 256,
      });
      files.push(f);
    }
    // Fill the disk to 1 MB free, below the 2 MB reserve: C-STORE is refused.
    const filler = path.join(mount, 'filler');
    const { bavail, bsize } = await fs.statfs(mount);
    await fs.writeFile(filler, Buffer.alloc(bavail * bsize - 1 * MB, 1));
    const [refused] = await send(box.port, files.slice(0, 1));
    assert.match(refused!, /^42752: cache full/, 'A700 while the disk is full');
    assert.ok(box.archive.refusing);
    // 8 MB freed: the next C-STOREs, ten associations at once, are all accepted.
    await fs.truncate(filler, bavail * bsize - 9 * MB);
    const outcomes = await Promise.all(files.slice(1).map((f) => send(box!.port, [f])));
    assert.deepEqual(outcomes.flat(), Array(10).fill('ok'));
    assert.equal(box.archive.refusing, null, 'and the refusal is lifted');
  });

  it('on an ext4 with the default root reserve, status, `cache`, the metrics and eviction read the disk as df does', async () => {
    requireRoot('the admission tests');
    mount = tempDir('ext4-figures');
    mountExt4(mount, 64);
    const metricsPort = await freePort();
    box = await startBox({
      storageDir: path.join(mount, 'var'),
      metrics: { port: metricsPort, host: '127.0.0.1' },
    });
    // 40 MB written by another program: df says about 70 % used of what the user can have.
    await fs.writeFile(path.join(mount, 'other'), Buffer.alloc(40 * MB, 1));
    const df = execFileSync('df', ['--block-size=1', '--output=used,avail,pcent', mount])
      .toString()
      .trim()
      .split('\n')[1]!
      .trim()
      .split(/\s+/);
    const [dfUsed, dfAvail] = [Number(df[0]), Number(df[1])];
    const dfPercent = Number(df[2]!.replace('%', ''));
    const disk = await diskUse(mount);
    assert.equal(disk.freeBytes, dfAvail, 'free is what the user can write');
    assert.equal(disk.totalBytes, dfUsed + dfAvail, "root's reserve is not the user's");
    // df rounds its percentage up.
    assert.equal(Math.ceil(disk.usedPercent), dfPercent);
    const status = (await controlRequest(box.config.storageDir, {
      command: 'status',
    })) as BoxStatus;
    // Free space moves as the box writes its index: the same reading within a megabyte.
    assert.ok(Math.abs(status.cache.diskFreeBytes - disk.freeBytes) < MB);
    assert.equal(status.cache.diskTotalBytes, disk.totalBytes);
    const report = (await controlRequest(box.config.storageDir, {
      command: 'cache',
    })) as CacheReport;
    assert.equal(report.disk.usedPercent.toFixed(1), disk.usedPercent.toFixed(1));
    const dry = await box.archive.evict(true, true);
    assert.equal(dry.before.usedPercent.toFixed(1), disk.usedPercent.toFixed(1));
    // The box writes its index meanwhile: the scrape's reading is within a megabyte.
    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const gauge = (name: string): number =>
      Number(new RegExp(`^dicom_edge_${name} (\\d+)$`, 'm').exec(scrape)?.[1]);
    assert.ok(Math.abs(gauge('disk_free_bytes') - disk.freeBytes) < MB, scrape);
    assert.ok(Math.abs(gauge('disk_size_bytes') - disk.totalBytes) < MB, scrape);
  });
});
