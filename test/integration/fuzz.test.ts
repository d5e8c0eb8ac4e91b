// Seeded mutation fuzzing (test/support/fuzz.ts) of the PDU reader and decoder, the data
// set scanner, and the whole box over plain TCP and TLS: every mutated input gets the
// standard's answer or a clean refusal, never a crash, a stored file of a name the cache
// does not make, a temp file left behind, or memory beyond its bound. `make fuzz` runs
// more cases (FUZZ_CASES=1000: ten times as many).
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { createDatasetReader } from '../../firmware/dicom/dataset/dataset-reader';
import { DatasetParseError, PduDecodeError } from '../../firmware/dicom/errors';
import { decodePdu } from '../../firmware/dicom/pdu';
import { PduReader } from '../../firmware/dicom/pdu-reader';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  transferSyntax,
} from '../../firmware/dicom/registry/transfer-syntaxes';
import { INDEXED_TAGS } from '../../storage/instance-store';
import { listenerTls, makeCertificates, type TestCertificates } from '../support/certificates';
import { caseCount, mutated, Random, validDataset, validExchange } from '../support/fuzz';
import {
  echoLocal,
  freePort,
  listFiles,
  partialTemps,
  run,
  startBox,
  tempDir,
  type TestBox,
} from '../support/peers';

const SEED = 20261128;

/** Feeds bytes in pieces of random size, as TCP would deliver them. */
function* pieces(bytes: Buffer, r: Random): Generator<Buffer> {
  for (let at = 0; at < bytes.length;) {
    const n = 1 + r.int(4096);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

describe('fuzzing: mutated input never crashes the box or leaves anything behind', function () {
  this.timeout(300_000);

  it(`the PDU reader and decoder refuse with PduDecodeError only (${caseCount(3000)} cases)`, () => {
    const valid = validExchange(1);
    for (let i = 0; i < caseCount(3000); i++) {
      const { name, bytes } = mutated(valid, SEED, i);
      const reader = new PduReader({ maxPDataLength: 16384, maxOtherLength: 1 << 20 });
      try {
        for (const piece of pieces(bytes, new Random(i))) {
          reader.push(piece);
          for (let raw = reader.next(); raw; raw = reader.next()) decodePdu(raw.type, raw.body);
        }
      } catch (err) {
        assert.ok(err instanceof PduDecodeError, `case ${i} (${name}): ${(err as Error).stack}`);
      }
    }
  });

  it(`the data set scanner refuses with DatasetParseError only (${caseCount(3000)} cases)`, async () => {
    const valid = validDataset(1);
    const ts = transferSyntax(EXPLICIT_VR_LITTLE_ENDIAN)!;
    for (let i = 0; i < caseCount(3000); i++) {
      const { name, bytes } = mutated(valid, SEED + 1, i);
      const reader = createDatasetReader(ts, INDEXED_TAGS);
      try {
        for (const piece of pieces(bytes, new Random(i))) {
          const wait = reader.write(piece);
          if (wait) await wait;
        }
        await reader.end();
      } catch (err) {
        assert.ok(err instanceof DatasetParseError, `case ${i} (${name}): ${(err as Error).stack}`);
      }
    }
  });

  describe('the running box, over plain TCP and over TLS', () => {
    let box: TestBox;
    let certs: TestCertificates;
    let tlsPort: number;

    before(async () => {
      certs = await makeCertificates(path.join(tempDir('fuzz'), 'certs'));
      tlsPort = await freePort();
      box = await startBox({
        artimTimeout: 1,
        idleTimeout: 2,
        tls: listenerTls(certs, tlsPort),
      });
    });

    after(async () => box.stop());

    /** Sends bytes and waits until the box closes, or a short while. */
    function send(socket: net.Socket, bytes: Buffer, r: Random): Promise<void> {
      return new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          socket.destroy();
          resolve();
        };
        const timer = setTimeout(done, 100);
        socket.on('error', done);
        socket.on('close', done);
        socket.on('data', () => undefined);
        for (const piece of pieces(bytes, r)) socket.write(piece);
      });
    }

    const connectTls = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = tls.connect(
          {
            host: '127.0.0.1',
            port: tlsPort,
            ca: readFileSync(certs.ca),
            cert: readFileSync(certs.client.cert),
            key: readFileSync(certs.client.key),
          },
          () => resolve(s),
        );
        s.once('error', reject);
      });

    it(`serves on after ${caseCount(150)} mutated exchanges over TCP and ${caseCount(50)} over TLS`, async () => {
      const rssBefore = process.memoryUsage.rss();
      let n = 0;
      for (let i = 0; i < caseCount(150) + caseCount(50); i++, n++) {
        const overTls = i >= caseCount(150);
        const { bytes } = mutated(validExchange(i), SEED + 2, i);
        const socket = overTls
          ? await connectTls()
          : net.connect({ host: '127.0.0.1', port: box.port });
        await send(socket, bytes, new Random(i));
      }
      assert.equal(n, caseCount(150) + caseCount(50));
      // Still serving, both ways.
      assert.equal(await echoLocal(box.port), 0);
      const echoTls = await run('echoscu', [
        '+tls',
        certs.client.key,
        certs.client.cert,
        '+cf',
        certs.ca,
        '127.0.0.1',
        String(tlsPort),
      ]);
      assert.equal(echoTls.code, 0, echoTls.stderr);
      // Only names the cache makes, from valid UIDs; no temp file left once the dust settles.
      const storage = box.config.storageDir;
      for (const f of await listFiles(path.join(storage, 'cache')))
        assert.match(
          path.relative(storage, f),
          /^cache\/[0-9.]+\/[0-9.]+\/[0-9.]+_[0-9a-f]{12}\.dcm$/,
          'a cache file of a name the cache does not make',
        );
      await new Promise((r) => setTimeout(r, 2500)); // idle associations aborted (idleTimeout)
      assert.equal(await partialTemps(storage), 0, 'temp files left behind');
      const grown = process.memoryUsage.rss() - rssBefore;
      assert.ok(grown < 150 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1048576)} MB`);
    });
  });
});
