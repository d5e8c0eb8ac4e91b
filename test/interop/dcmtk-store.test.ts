// Interop with DCMTK (Debian's package), started by the test on 127.0.0.1:
// echoscu and storescu -> the box in every transfer syntax DCMTK can make here, and our
// echo and store -> storescp. "Byte-identical" compares data set bytes: everything
// after each file's own File Meta Information.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Status } from '../../firmware/dicom/dimse/status';
import { transferSyntax } from '../../firmware/dicom/registry/transfer-syntaxes';
import { echo } from '../../firmware/services/echo-scu';
import { storeFiles } from '../../firmware/services/store-scu';
import {
  datasetBytes,
  listFiles,
  run,
  startBox,
  startStorescp,
  tempDir,
  type TestBox,
  storescu,
} from '../support/peers';
import { uid, writeSyntheticFile } from '../support/synthetic';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { boxConfig, startBoxProcess } from '../support/box-process';
import { promises as fs } from 'node:fs';

/** [label, converter and its arguments (null: the base file as written), storescu proposal option] */
const SYNTAXES: Array<[string, string[] | null, string]> = [
  ['Explicit VR Little Endian', null, '-xe'],
  ['Implicit VR Little Endian', ['dcmconv', '+ti'], '-xi'],
  ['Explicit VR Big Endian', ['dcmconv', '+tb'], '-xb'],
  ['Deflated Explicit VR Little Endian', ['dcmconv', '+td'], '-xd'],
  ['JPEG Lossless SV1', ['dcmcjpeg'], '-xs'],
  ['JPEG Extended (Process 2 & 4)', ['dcmcjpeg', '+ee'], '-xx'],
  ['JPEG-LS Lossless', ['dcmcjpls'], '-xt'],
  ['JPEG-LS Near-Lossless', ['dcmcjpls', '+en'], '-xu'],
  ['RLE Lossless', ['dcmcrle'], '-xr'],
];

async function transferSyntaxOf(file: string): Promise<string> {
  return parsePart10Header(await fs.readFile(file)).meta.transferSyntaxUid;
}

describe('interop with DCMTK', function () {
  this.timeout(120_000);
  let box: TestBox;
  let dir: string;

  before(async () => {
    const v = await run('storescu', ['--version']);
    assert.equal(v.code, 0, 'DCMTK must be installed (make test installs it)');
  });
  beforeEach(async () => {
    box = await startBox();
    dir = tempDir('dcmtk');
  });
  afterEach(async () => box.stop());

  it('echoscu -> box: Success', async () => {
    const r = await run('echoscu', ['-aec', 'DICOM_EDGE', '127.0.0.1', String(box.port)]);
    assert.equal(r.code, 0, r.stderr);
  });

  SYNTAXES.forEach(([label, converter, proposal], i) => {
    it(`storescu ${proposal} -> box: ${label} is cached with the same data set bytes`, async () => {
      const base = path.join(dir, `base-${i}.dcm`);
      await writeSyntheticFile(base, {
        studyUid: uid(40),
        seriesUid: uid(40, 1),
        sopInstanceUid: uid(40, 1, i + 1),
      });
      let file = base;
      if (converter) {
        file = path.join(dir, `converted-${i}.dcm`);
        const c = await run(converter[0]!, [...converter.slice(1), base, file]);
        assert.equal(c.code, 0, c.stderr);
      }
      const ts = await transferSyntaxOf(file);
      assert.equal(transferSyntax(ts)?.name.split(' ')[0], label.split(' ')[0], `made ${ts}`);
      await storescu(box.port, [file], [proposal]);
      const cached = await listFiles(path.join(box.config.storageDir, 'cache'));
      assert.equal(cached.length, 1);
      assert.equal(
        await transferSyntaxOf(cached[0]!),
        ts,
        'stored in the transfer syntax it was sent in',
      );
      assert.deepEqual(await datasetBytes(cached[0]!), await datasetBytes(file));
    });
  });

  it('storescu of a 105 MB instance: stored, and the A-RELEASE-RQ after it answered at once', async () => {
    // The data set's last fragment could find its stream full: reading paused then, and the
    // stream, ended, never asked again, so the release waited unread (issue 26's bench).
    const file = path.join(dir, 'large.dcm');
    await writeSyntheticFile(file, {
      studyUid: uid(42),
      seriesUid: uid(42, 1),
      sopInstanceUid: uid(42, 1, 1),
      rows: 7000,
      columns: 7500,
    });
    // A box process of its own: the in-process one reads its stream as fast as it arrives.
    const proc = await startBoxProcess(await boxConfig());
    try {
      await storescu(proc.port, [file], ['--acse-timeout', '5']);
      assert.match(proc.output(), /stored .*bytes=105000418/);
    } finally {
      assert.equal(await proc.terminate(), 0);
    }
  });

  it('storescu with a whole study in one association: every instance cached and indexed', async () => {
    const files: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const f = path.join(dir, `study-${i}.dcm`);
      await writeSyntheticFile(f, {
        studyUid: uid(41),
        seriesUid: uid(41, 1 + (i % 2)),
        sopInstanceUid: uid(41, 1 + (i % 2), i),
      });
      files.push(f);
    }
    await storescu(box.port, files);
    assert.deepEqual(await box.archive.counts(), {
      patients: 1,
      studies: 1,
      series: 2,
      instances: 20,
    });
  });

  it("our echo and store -> storescp: Success, and storescp's files hold our data sets byte for byte", async () => {
    const scp = await startStorescp(['+xa']);
    try {
      const peer = {
        host: '127.0.0.1',
        port: scp.port,
        callingAeTitle: 'DICOM_EDGE',
        calledAeTitle: 'STORESCP',
      };
      assert.equal(await echo(peer), Status.Success);
      const files: string[] = [];
      for (const [i, conv] of [
        [1, null],
        [2, ['dcmconv', '+ti']],
        [3, ['dcmcjpeg']],
      ] as const) {
        const base = path.join(dir, `ours-${i}.dcm`);
        await writeSyntheticFile(base, {
          studyUid: uid(42),
          seriesUid: uid(42, 1),
          sopInstanceUid: uid(42, 1, i),
        });
        let file = base;
        if (conv) {
          file = path.join(dir, `ours-conv-${i}.dcm`);
          assert.equal((await run(conv[0], [...conv.slice(1), base, file])).code, 0);
        }
        files.push(file);
      }
      const results = await storeFiles(peer, files, () => undefined);
      assert.deepEqual(
        results.map((r) => r.status),
        [0, 0, 0],
      );
      const received = await listFiles(scp.dir);
      assert.equal(received.length, 3);
      const sent = await Promise.all(
        files.map(async (f) => (await datasetBytes(f)).toString('hex')),
      );
      for (const f of received)
        assert.ok(sent.includes((await datasetBytes(f)).toString('hex')), `${f} differs`);
    } finally {
      await scp.stop();
    }
  });
});
