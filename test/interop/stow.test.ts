// Forwarding over STOW-RS (PS3.18 §10.5) to Debian's Orthanc with its DICOMweb plugin, and
// to a small HTTP server of the test's for the answers Orthanc does not give (409, a
// per-instance refusal, a request refused as a whole, silence mid-request). What arrives
// is byte-identical; the destination down, refusing the credentials or silent is backed
// off with nothing charged; a kill -9 mid-request loses nothing.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DEFAULTS, type DicomwebNodeConfig } from '../../firmware/config/config';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { storeFiles } from '../../firmware/services/store-scu';
import { boxConfig, startBoxProcess } from '../support/box-process';
import { makeCertificates, type TestCertificates } from '../support/certificates';
import { startOrthanc, type OrthancPeer } from '../support/orthanc';
import {
  datasetBytes,
  drained,
  freePort,
  startBox,
  storeInto,
  tempDir,
  waitForPort,
  type TestBox,
} from '../support/peers';
import { logOutput } from '../support/peer-logs';
import { uid, writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';
import { cloud, cloudReport } from '../support/dicomweb-node';

const FAST_RETRY = { retryInitialSeconds: 0.2, retryMaxSeconds: 1 };

/** Each file's data set is the one Orthanc holds. */
async function arrivedIdentical(orthanc: OrthancPeer, files: string[]): Promise<void> {
  for (const f of files) {
    const original = await fs.readFile(f);
    const sop = parsePart10Header(original).meta.mediaStorageSopInstanceUid;
    const held = await orthanc.fileOf(sop);
    assert.ok(held, `${sop} is not in Orthanc`);
    assert.ok(
      held.subarray(parsePart10Header(held).datasetOffset).equals(await datasetBytes(f)),
      `${sop} differs`,
    );
  }
}

/** An HTTP server of the test's: each request's body, and the answer `respond` gives. */
async function fakeStow(
  respond: (body: Buffer, n: number, res: http.ServerResponse) => void,
): Promise<{
  url: string;
  bodies: Buffer[];
  onHeaders?: (h: http.IncomingHttpHeaders) => void;
  close: () => Promise<void>;
}> {
  const bodies: Buffer[] = [];
  const hooks: { onHeaders?: (h: http.IncomingHttpHeaders) => void } = {};
  const server = http.createServer((req, res) => {
    hooks.onHeaders?.(req.headers);
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      bodies.push(Buffer.concat(parts));
      respond(bodies.at(-1)!, bodies.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dicom-web`,
    bodies,
    set onHeaders(f: ((h: http.IncomingHttpHeaders) => void) | undefined) {
      hooks.onHeaders = f;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function failedResponse(sop: string, reason: number): string {
  return JSON.stringify({
    '00081198': {
      vr: 'SQ',
      Value: [
        { '00081155': { vr: 'UI', Value: [sop] }, '00081197': { vr: 'US', Value: [reason] } },
      ],
    },
  });
}

describe('forwarding over STOW-RS', function () {
  this.timeout(120_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });

  async function box(node: DicomwebNodeConfig): Promise<TestBox> {
    const b = await startBox({ nodes: [node], forwarding: FAST_RETRY });
    cleanups.push(() => b.stop());
    return b;
  }

  async function orthanc(options: Parameters<typeof startOrthanc>[0] = {}): Promise<OrthancPeer> {
    const o = await startOrthanc({ dicomweb: true, ...options });
    cleanups.push(() => o.stop());
    return o;
  }

  it('a study arrives in Orthanc byte-identical, several instances to a request', async () => {
    const pacs = await orthanc();
    const b = await box(
      cloud(`http://127.0.0.1:${pacs.httpPort}/dicom-web`, {
        batch: { maxInstances: 4, maxBytes: 64 * 1024 * 1024 },
      }),
    );
    const files = await writeSyntheticStudy(tempDir('stow'), 91, 10);
    await storeInto(b, files);
    await drained(b, 'cloud');
    const r = await cloudReport(b);
    assert.deepEqual([r.done, r.failed, r.sentSinceStart], [10, 0, 10]);
    assert.equal(await pacs.instanceCount(), 10);
    await arrivedIdentical(pacs, files);
    assert.equal(
      (await b.forwarder.echo('cloud')).status,
      0,
      'the health check: one QIDO-RS query',
    );
  });

  it('Orthanc down, then up: the queue waits, nothing charged, then drains', async () => {
    const pacs = await orthanc();
    await pacs.stop();
    const b = await box(cloud(`http://127.0.0.1:${pacs.httpPort}/dicom-web`));
    const files = await writeSyntheticStudy(tempDir('stow-down'), 92, 3);
    await storeInto(b, files);
    await waitFor(
      'backing off',
      async () => (await cloudReport(b)).state === 'backing-off',
      10_000,
    );
    const down = await cloudReport(b);
    assert.match(down.lastError ?? '', /ECONNREFUSED/);
    assert.deepEqual([down.queued, down.failed], [3, 0]);
    await pacs.restart();
    await drained(b, 'cloud');
    assert.equal((await cloudReport(b)).done, 3);
    await arrivedIdentical(pacs, files);
  });

  it('wrong credentials: said as such, the queue kept; the right password in the file delivers', async () => {
    const pacs = await orthanc({ users: { box: 'right-password' } });
    const secret = path.join(tempDir('stow-auth'), 'password');
    await fs.writeFile(secret, 'wrong-password\n', { mode: 0o600 });
    const b = await box(
      cloud(`http://127.0.0.1:${pacs.httpPort}/dicom-web`, {
        auth: { type: 'basic', user: 'box', passwordFile: secret },
      }),
    );
    const files = await writeSyntheticStudy(tempDir('stow-auth'), 93, 2);
    await storeInto(b, files);
    await waitFor(
      'refused',
      async () => /credentials/.test((await cloudReport(b)).lastError ?? ''),
      10_000,
    );
    const refused = await cloudReport(b);
    assert.match(
      refused.lastError!,
      /answered HTTP 401: credentials refused; check the node's auth/,
    );
    assert.deepEqual([refused.queued, refused.failed], [2, 0]);
    await assert.rejects(() => b.forwarder.echo('cloud'), /HTTP 401 \(credentials refused\)/);
    // The file is read at each request: a corrected password is taken at the next try.
    await fs.writeFile(secret, 'right-password\n');
    await drained(b, 'cloud');
    assert.equal((await cloudReport(b)).done, 2);
    assert.equal(await pacs.instanceCount(), 2);
  });

  describe('over HTTPS', () => {
    let certs: TestCertificates;
    before(async () => {
      certs = await makeCertificates(tempDir('stow-certs'));
    });

    // Debian's Orthanc 1.10.1 crashes (SIGSEGV) on its first HTTPS connection (civetweb
    // with OpenSSL 3), so the test's TLS server is socat's OpenSSL in front of its HTTP.
    async function httpsInFront(httpPort: number): Promise<string> {
      const port = await freePort();
      const child = spawn('socat', [
        `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,cert=${certs.server.cert},key=${certs.server.key},cafile=${certs.ca},verify=1`,
        `TCP:127.0.0.1:${httpPort}`,
      ]);
      logOutput(child, 'socat');
      cleanups.push(async () => {
        child.kill();
      });
      await waitForPort(port);
      return `https://localhost:${port}/dicom-web`;
    }

    it('with mutual TLS: delivered; without the client certificate: refused, kept', async () => {
      const pacs = await orthanc();
      const url = await httpsInFront(pacs.httpPort);
      const b = await box(
        cloud(url, {
          tls: {
            trustedCertificates: certs.ca,
            certificate: certs.client.cert,
            privateKey: certs.client.key,
            profile: 'bcp195-nd',
          },
        }),
      );
      const files = await writeSyntheticStudy(tempDir('stow-tls'), 94, 3);
      await storeInto(b, files);
      await drained(b, 'cloud');
      await arrivedIdentical(pacs, files);

      const anonymous = await startBox({
        nodes: [cloud(url, { tls: { trustedCertificates: certs.ca, profile: 'bcp195-nd' } })],
        forwarding: FAST_RETRY,
      });
      cleanups.push(() => anonymous.stop());
      const more = await writeSyntheticStudy(tempDir('stow-tls2'), 95, 1);
      await storeInto(anonymous, more);
      await waitFor(
        'refused',
        async () => (await cloudReport(anonymous)).state === 'backing-off',
        10_000,
      );
      const refused = await cloudReport(anonymous);
      assert.deepEqual([refused.queued, refused.failed], [1, 0]);
      assert.equal(await pacs.instanceCount(), 3);
    });
  });

  describe('answers of a server of the test', () => {
    it('a bearer token read from its file at each request, and the extra headers, are sent', async () => {
      const seen: Array<string | undefined> = [];
      const server = await fakeStow((_b, _n, res) => res.writeHead(200).end());
      cleanups.push(server.close);
      const token = path.join(tempDir('stow-bearer'), 'token');
      await fs.writeFile(token, 'first-token\n', { mode: 0o600 });
      const b = await box(
        cloud(server.url, {
          auth: { type: 'bearer', tokenFile: token },
          headers: { 'X-Tenant': 'clinic-7' },
        }),
      );
      server.onHeaders = (h) => seen.push(`${h.authorization} ${h['x-tenant']}`);
      await storeInto(b, await writeSyntheticStudy(tempDir('stow-bearer'), 102, 1));
      await drained(b, 'cloud');
      await fs.writeFile(token, 'second-token\n');
      await storeInto(b, await writeSyntheticStudy(tempDir('stow-bearer2'), 103, 1));
      await drained(b, 'cloud');
      assert.deepEqual(seen, ['Bearer first-token clinic-7', 'Bearer second-token clinic-7']);
    });

    it('a Warning Reason is delivered, recorded with its status', async () => {
      const sop = uid(104, 1, 1);
      const server = await fakeStow((_b, _n, res) =>
        res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(
          JSON.stringify({
            '00081199': {
              vr: 'SQ',
              Value: [
                {
                  '00081155': { vr: 'UI', Value: [sop] },
                  '00081196': { vr: 'US', Value: [0xb000] },
                },
              ],
            },
          }),
        ),
      );
      cleanups.push(server.close);
      const b = await box(cloud(server.url));
      await storeInto(b, await writeSyntheticStudy(tempDir('stow-warning'), 104, 1));
      await drained(b, 'cloud');
      const [job] = await b.archive.queue.jobsOf(sop);
      assert.deepEqual([job?.state, job?.lastStatus], ['done', 0xb000]);
    });

    it('409 Conflict for instances it holds: delivered', async () => {
      const server = await fakeStow((_b, _n, res) => res.writeHead(409).end());
      cleanups.push(server.close);
      const b = await box(cloud(server.url));
      await storeInto(b, await writeSyntheticStudy(tempDir('stow-409'), 96, 2));
      await drained(b, 'cloud');
      const r = await cloudReport(b);
      assert.deepEqual([r.done, r.failed], [2, 0]);
      assert.match(
        server.bodies[0]!.toString('latin1'),
        /^--dicom-edge-[0-9a-f]{32}\r\nContent-Type: application\/dicom\r\n\r\n/,
      );
    });

    it('one instance refused (Failure Reason A900): it fails with the reason, the other is delivered', async () => {
      const bad = uid(97, 1, 2);
      const server = await fakeStow((_b, _n, res) =>
        res
          .writeHead(202, { 'content-type': 'application/dicom+json' })
          .end(failedResponse(bad, 0xa900)),
      );
      cleanups.push(server.close);
      const b = await box(cloud(server.url));
      await storeInto(b, await writeSyntheticStudy(tempDir('stow-a900'), 97, 2));
      await drained(b, 'cloud');
      const r = await cloudReport(b);
      assert.deepEqual([r.done, r.failed], [1, 1]);
      assert.equal(r.lastFailedSop, bad);
      assert.equal(r.lastFailedError, 'cloud refused it: Failure Reason 0xA900');
    });

    it('a request refused as a whole: its instances go one at a time, the bad one fails alone', async () => {
      const server = await fakeStow((body, _n, res) => {
        const parts = body.toString('latin1').split('Content-Type: application/dicom').length - 1;
        if (parts > 1 || body.includes('BAD^ONE')) res.writeHead(400).end('cannot parse');
        else res.writeHead(200).end();
      });
      cleanups.push(server.close);
      const b = await box(cloud(server.url));
      const dir = tempDir('stow-400');
      const good = await writeSyntheticStudy(dir, 98, 2);
      const [badFile] = await writeSyntheticStudy(dir, 99, 1, { patientName: 'BAD^ONE' });
      await storeInto(b, [...good, badFile!]);
      await drained(b, 'cloud');
      const r = await cloudReport(b);
      assert.deepEqual([r.done, r.failed], [2, 1]);
      assert.match(r.lastFailedError ?? '', /answered HTTP 400: cannot parse/);
    });

    it('silence mid-request while the server answers queries: its instances go one at a time', async () => {
      const server = await fakeStow((_b, n, res) => {
        if (n > 1) res.writeHead(200).end(); // the first request is never answered
      });
      cleanups.push(server.close);
      const b = await box(cloud(server.url, { timeoutSeconds: 1 }));
      await storeInto(b, await writeSyntheticStudy(tempDir('stow-silent'), 100, 2));
      await drained(b, 'cloud');
      const r = await cloudReport(b);
      assert.deepEqual([r.done, r.failed], [2, 0]);
      // The stalled request, the query that showed the server alive, one request each.
      assert.equal(server.bodies.length, 4);
    });

    it('an instance the server resets the connection on fails alone; the rest flows', async () => {
      const server = await fakeStow((body, _n, res) => {
        if (body.includes('POISON^ONE')) res.socket?.destroy();
        else res.writeHead(200).end();
      });
      cleanups.push(server.close);
      const b = await startBox({
        nodes: [cloud(server.url)],
        forwarding: { ...FAST_RETRY, instanceAttempts: 2 },
      });
      cleanups.push(() => b.stop());
      const dir = tempDir('stow-poison');
      const [poison] = await writeSyntheticStudy(dir, 105, 1, { patientName: 'POISON^ONE' });
      const good = await writeSyntheticStudy(dir, 106, 3);
      await storeInto(b, [poison!, ...good]);
      await waitFor(
        'the poison failed for good',
        async () => (await cloudReport(b)).failed === 1,
        30_000,
      );
      await drained(b, 'cloud');
      const r = await cloudReport(b);
      assert.deepEqual([r.done, r.failed], [3, 1]);
      assert.equal(r.lastFailedSop, uid(105, 1, 1));
      assert.match(r.lastFailedError ?? '', /; 2 tries, each time while cloud answered queries$/);
    });
  });

  it('kill -9 of the box mid-request: after the restart everything arrives', async () => {
    const pacs = await orthanc();
    const config = await boxConfig({
      nodes: [
        cloud(`http://127.0.0.1:${pacs.httpPort}/dicom-web`, {
          batch: { maxInstances: 2, maxBytes: 64 * 1024 * 1024 },
          // Slow enough that the kill finds a request under way.
          maxBytesPerSecond: 256 * 1024,
        }),
      ],
      forwarding: { ...DEFAULTS.forwarding, ...FAST_RETRY },
    });
    let proc = await startBoxProcess(config);
    cleanups.push(() => proc.kill9());
    const files = await writeSyntheticStudy(tempDir('stow-kill'), 101, 12, {
      rows: 256,
      columns: 256,
    });
    const results = await storeFiles(
      {
        host: '127.0.0.1',
        port: proc.port,
        callingAeTitle: 'MODALITY',
        calledAeTitle: 'DICOM_EDGE',
      },
      files,
      () => undefined,
    );
    assert.ok(results.every((r) => r.status === 0));
    await waitFor('some delivered', async () => (await pacs.instanceCount()) >= 2, 30_000, 20);
    await proc.kill9();
    assert.ok((await pacs.instanceCount()) < 12, 'killed before the end');
    proc = await startBoxProcess(config);
    await waitFor('all arrived', async () => (await pacs.instanceCount()) === 12, 60_000);
    await arrivedIdentical(pacs, files);
  });
});
