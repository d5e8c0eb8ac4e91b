// Lossless JPEG-LS before a thin WAN (a node's "compress"): what the destination holds is
// decoded by DCMTK's dcmdjpls and compared with what the modality sent — the data set,
// byte for byte. Over STOW-RS to Orthanc and over DIMSE to storescp; a destination that
// does not take JPEG-LS, or refuses it, gets the original; an image the codec cannot take
// as it is (signed 12-bit samples) goes as it is.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DEFAULTS, type NodeConfig } from '../../firmware/config/config';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { startOrthanc, type OrthancPeer } from '../support/orthanc';
import {
  datasetBytes,
  drained,
  listFiles,
  run,
  startBox,
  startStorescp,
  storeInto,
  tempDir,
  type TestBox,
} from '../support/peers';
import { writeSyntheticStudy } from '../support/synthetic';

const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';

function metaOf(file: Buffer): { sop: string; ts: string } {
  const { meta } = parsePart10Header(file);
  return { sop: meta.mediaStorageSopInstanceUid, ts: meta.transferSyntaxUid };
}

/** dcmdjpls of a JPEG-LS file; the decoded data set. */
async function decoded(file: Buffer, dir: string): Promise<Buffer> {
  const input = path.join(dir, `${Math.random().toString(36).slice(2)}.dcm`);
  await fs.writeFile(input, file);
  const output = `${input}.decoded`;
  const r = await run('dcmdjpls', [input, output]);
  assert.equal(r.code, 0, r.stderr);
  return datasetBytes(output);
}

describe('lossless JPEG-LS before the WAN', function () {
  this.timeout(120_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });

  async function box(node: NodeConfig): Promise<TestBox> {
    const b = await startBox({
      nodes: [node],
      forwarding: { ...DEFAULTS.forwarding, retryInitialSeconds: 0.2, retryMaxSeconds: 1 },
    });
    cleanups.push(() => b.stop());
    return b;
  }

  async function orthanc(): Promise<OrthancPeer> {
    const o = await startOrthanc({ dicomweb: true });
    cleanups.push(() => o.stop());
    return o;
  }

  const web = (url: string): NodeConfig => ({
    name: 'cloud',
    kind: 'dicomweb',
    url,
    forward: true,
    compress: 'jpeg-ls-lossless',
    batch: { maxInstances: 50, maxBytes: 64 * 1024 * 1024 },
    timeoutSeconds: 10,
  });

  it('over STOW-RS: Orthanc holds JPEG-LS that decodes to the very data set sent', async () => {
    const pacs = await orthanc();
    const b = await box(web(`http://127.0.0.1:${pacs.httpPort}/dicom-web`));
    const dir = tempDir('jls-stow');
    const files = [
      ...(await writeSyntheticStudy(dir, 110, 2, { rows: 256, columns: 256, noiseSeed: 5 })),
      // A smooth image, several frames: each frame its own fragment.
      ...(await writeSyntheticStudy(path.join(dir, 'mf'), 111, 1, {
        rows: 128,
        columns: 96,
        frames: 3,
      })),
    ];
    await storeInto(b, files);
    await drained(b, 'cloud');
    let sent = 0;
    let held = 0;
    for (const f of files) {
      const original = await fs.readFile(f);
      const inOrthanc = await pacs.fileOf(metaOf(original).sop);
      assert.ok(inOrthanc);
      assert.equal(metaOf(inOrthanc).ts, JPEG_LS_LOSSLESS);
      assert.ok(
        (await decoded(inOrthanc, dir)).equals(await datasetBytes(f)),
        `${f} decodes to the original`,
      );
      sent += original.length;
      held += inOrthanc.length;
    }
    assert.ok(held < sent * 0.9, `compressed: ${held} of ${sent} bytes`);
  });

  it('an Implicit VR Little Endian image: its elements written with explicit VRs, the same values', async () => {
    const pacs = await orthanc();
    const b = await box(web(`http://127.0.0.1:${pacs.httpPort}/dicom-web`));
    const dir = tempDir('jls-implicit');
    const [explicit] = await writeSyntheticStudy(dir, 115, 1, {
      rows: 200,
      columns: 200,
      noiseSeed: 9,
    });
    const implicit = path.join(dir, 'implicit.dcm');
    const converted = await run('dcmconv', ['+ti', explicit!, implicit]);
    assert.equal(converted.code, 0, converted.stderr);
    await storeInto(b, [implicit]);
    await drained(b, 'cloud');
    const inOrthanc = await pacs.fileOf(metaOf(await fs.readFile(implicit)).sop);
    assert.equal(metaOf(inOrthanc!).ts, JPEG_LS_LOSSLESS);
    assert.ok((await decoded(inOrthanc!, dir)).equals(await datasetBytes(explicit!)));
  });

  it('an image the codec cannot take as it is (signed 12-bit samples) goes as it is', async () => {
    const pacs = await orthanc();
    const b = await box(web(`http://127.0.0.1:${pacs.httpPort}/dicom-web`));
    const [file] = await writeSyntheticStudy(tempDir('jls-signed'), 112, 1, {
      pixelRepresentation: 1,
    });
    await storeInto(b, [file!]);
    await drained(b, 'cloud');
    const inOrthanc = await pacs.fileOf(metaOf(await fs.readFile(file!)).sop);
    assert.equal(metaOf(inOrthanc!).ts, '1.2.840.10008.1.2.1');
    assert.ok(
      inOrthanc!
        .subarray(parsePart10Header(inOrthanc!).datasetOffset)
        .equals(await datasetBytes(file!)),
    );
  });

  it('a STOW-RS server that refuses it compressed gets the original', async () => {
    const received: Buffer[] = [];
    const server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        if (body.includes(JPEG_LS_LOSSLESS)) res.writeHead(415).end('JPEG-LS not supported');
        else {
          received.push(body);
          res.writeHead(200).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const b = await box(
      web(`http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`),
    );
    const files = await writeSyntheticStudy(tempDir('jls-refused'), 113, 2);
    await storeInto(b, files);
    await drained(b, 'cloud');
    const report = (await b.forwarder.report())[0]!;
    assert.deepEqual([report.done, report.failed], [2, 0]);
    const all = Buffer.concat(received);
    for (const f of files) assert.ok(all.includes(await datasetBytes(f)), 'the original went');
  });

  it('over DIMSE: storescp that takes JPEG-LS gets it, one that does not gets the original', async () => {
    const takesAll = await startStorescp(['+xa']);
    const plainOnly = await startStorescp();
    cleanups.push(
      () => takesAll.stop(),
      () => plainOnly.stop(),
    );
    const dimse = (name: string, port: number): NodeConfig => ({
      name,
      ae: 'STORESCP',
      host: '127.0.0.1',
      port,
      forward: true,
      compress: 'jpeg-ls-lossless',
    });
    const b = await startBox({
      nodes: [dimse('wan', takesAll.port), dimse('lan', plainOnly.port)],
    });
    cleanups.push(() => b.stop());
    const dir = tempDir('jls-dimse');
    const files = await writeSyntheticStudy(dir, 114, 2, { rows: 256, columns: 256 });
    await storeInto(b, files);
    await Promise.all([drained(b, 'wan'), drained(b, 'lan')]);
    const originals = await Promise.all(files.map((f) => datasetBytes(f)));
    for (const f of await listFiles(takesAll.dir)) {
      const got = await fs.readFile(f);
      assert.equal(metaOf(got).ts, JPEG_LS_LOSSLESS);
      const plain = await decoded(got, dir);
      assert.ok(
        originals.some((o) => o.equals(plain)),
        `${f} decodes to an original`,
      );
    }
    for (const f of await listFiles(plainOnly.dir)) {
      const got = await datasetBytes(f);
      assert.ok(
        originals.some((o) => o.equals(got)),
        `${f} is an original, byte for byte`,
      );
    }
    assert.equal((await listFiles(takesAll.dir)).length, 2);
    assert.equal((await listFiles(plainOnly.dir)).length, 2);
  });
});
