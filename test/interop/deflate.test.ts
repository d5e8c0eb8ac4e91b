// Deflated Explicit VR Little Endian with DCMTK, both directions (PS3.5 §A.5): a deflated
// stream of odd length carries one trailing NULL pad byte. storescu pads what it sends;
// dcmconv +td writes files without it. The box stores what it was sent, and adds the pad
// byte on the way out when a stored stream lacks it, so DCMTK never sees an odd fragment.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { Association } from '../../firmware/dicom/association';
import { tcpConnector } from '../../firmware/dicom/transport';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { CommandField } from '../../firmware/dicom/dimse/command-field';
import { DimseRequestor } from '../../firmware/dicom/dimse/dimse-requestor';
import { Status } from '../../firmware/dicom/dimse/status';
import { DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN } from '../../firmware/dicom/registry/transfer-syntaxes';
import { storeFiles } from '../../firmware/services/store-scu';
import {
  datasetBytes,
  listFiles,
  partialTemps,
  run,
  startBox,
  startStorescp,
  tempDir,
  type TestBox,
} from '../support/peers';
import { CT_IMAGE_STORAGE, uid, writeSyntheticFile } from '../support/synthetic';
import { waitFor } from '../support/wait';

/** A 512x512x16 CT of noise, deflated by dcmconv to a stream of odd length (no pad byte). */
async function oddDeflatedCt(dir: string, n: number): Promise<{ file: string; sop: string }> {
  for (let seed = 1; seed <= 40; seed++) {
    const sop = uid(n, 1, seed);
    const plain = path.join(dir, `plain-${seed}.dcm`);
    const file = path.join(dir, `deflated-${seed}.dcm`);
    await writeSyntheticFile(plain, {
      studyUid: uid(n),
      seriesUid: uid(n, 1),
      sopInstanceUid: sop,
      rows: 512,
      columns: 512,
      noiseSeed: seed,
    });
    const c = await run('dcmconv', ['+td', plain, file]);
    assert.equal(c.code, 0, c.stderr);
    if ((await datasetBytes(file)).length % 2 === 1) return { file, sop };
  }
  throw new Error('no seed gave an odd deflated stream');
}

function inflated(dataset: Buffer): Buffer {
  return inflateRawSync(dataset);
}

describe('deflated data sets with DCMTK (PS3.5 §A.5 padding)', function () {
  this.timeout(120_000);
  let box: TestBox;
  let dir: string;
  beforeEach(async () => {
    box = await startBox();
    dir = tempDir('deflate');
  });
  afterEach(async () => box.stop());

  it('storescu -xd of an odd deflated stream is answered (it pads); the cached data set is what it sent', async () => {
    const { file, sop } = await oddDeflatedCt(dir, 90);
    const r = await run(
      'storescu',
      ['-xd', '-to', '20', '-td', '20', '-aec', 'DICOM_EDGE', '127.0.0.1', String(box.port), file],
      60_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const row = await box.archive.instance(sop);
    assert.ok(row, 'indexed');
    const cached = await datasetBytes(path.join(box.config.storageDir, row.path));
    const original = await datasetBytes(file);
    assert.equal(cached.length % 2, 0, 'storescu sent an even (padded) stream');
    assert.equal(cached[cached.length - 1], 0, 'the pad is a NULL byte');
    assert.deepEqual(inflated(cached), inflated(original));
    assert.equal(await partialTemps(box.config.storageDir), 0, 'no temp file left open');
  });

  it('a stored odd stream (a sender that did not pad) is forwarded to storescp +xa with its pad byte', async () => {
    const { file, sop } = await oddDeflatedCt(dir, 91);
    const original = await datasetBytes(file);
    // +B: storescp writes the data set as received (bit-preserving), not re-encoded.
    const scp = await startStorescp(['+xa', '+B']);
    const forwarding = await startBox({
      nodes: [
        { name: 'archive', ae: 'STORESCP', host: '127.0.0.1', port: scp.port, forward: true },
      ],
    });
    try {
      // Sent raw, exactly as the file holds it: the way an unpadded stream reaches the cache.
      const association = await Association.request({
        connect: tcpConnector('127.0.0.1', forwarding.port),
        callingAeTitle: 'NOPAD',
        calledAeTitle: 'DICOM_EDGE',
        maxPduLength: 16384,
        artimMs: 5000,
        presentationContexts: [
          {
            id: 1,
            abstractSyntax: CT_IMAGE_STORAGE,
            transferSyntaxes: [DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN],
          },
        ],
      });
      const rsp = await new DimseRequestor(association).request(
        1,
        {
          commandField: CommandField.CStoreRq,
          affectedSopClassUid: CT_IMAGE_STORAGE,
          affectedSopInstanceUid: sop,
          priority: 0,
        },
        original,
      );
      await association.release();
      assert.equal(rsp.command.status, Status.Success);
      const row = await forwarding.archive.instance(sop);
      assert.deepEqual(
        await datasetBytes(path.join(forwarding.config.storageDir, row!.path)),
        original,
        'stored as sent',
      );
      await waitFor(
        'the archive has the instance',
        async () => (await forwarding.forwarder.report())[0]?.done === 1,
        30_000,
      );
      const [received] = await listFiles(scp.dir);
      const bytes = await fs.readFile(received!);
      const header = parsePart10Header(bytes);
      assert.equal(header.meta.transferSyntaxUid, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN);
      assert.deepEqual(
        bytes.subarray(header.datasetOffset),
        Buffer.concat([original, Buffer.from([0])]),
        'the stored stream and its one NULL pad byte',
      );
      assert.equal((await forwarding.forwarder.report())[0]?.failed, 0);
    } finally {
      await forwarding.stop();
      await scp.stop();
    }
  });

  it('our store SCU sends a dcmconv file with an odd stream to storescp +xa, padded', async () => {
    const { file } = await oddDeflatedCt(dir, 92);
    const scp = await startStorescp(['+xa']);
    try {
      const results = await storeFiles(
        { host: '127.0.0.1', port: scp.port, callingAeTitle: 'EDGE', calledAeTitle: 'STORESCP' },
        [file],
        () => undefined,
      );
      assert.equal(results[0]!.status, Status.Success, results[0]!.error);
      const [received] = await listFiles(scp.dir);
      assert.deepEqual(inflated(await datasetBytes(received!)), inflated(await datasetBytes(file)));
    } finally {
      await scp.stop();
    }
  });
});
