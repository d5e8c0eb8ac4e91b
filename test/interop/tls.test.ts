// DICOM TLS (PS3.15 Annex B) with DCMTK's and Orthanc's own TLS on 127.0.0.1 and certificates
// made by openssl: storescu/echoscu +tls to the box's TLS listener, the box forwarding to
// storescp +tls with mutual authentication, the destination's identity checked (expired,
// wrong host, pinned), each refusal one log line while the box serves on, and a
// certificate changed while the box runs.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { NodeConfig } from '../../firmware/config/config';
import { onLogLine } from '../../firmware/log';
import { runningStatus } from '../../firmware/control/commands';
import { controlRequest } from '../../firmware/control/control-client';
import { formatBoxStatus } from '../../ui-tty/format';
import {
  listenerTls,
  makeCertificates,
  servedSubject,
  type TestCertificates,
} from '../support/certificates';
import {
  datasetBytes,
  freePort,
  listFiles,
  run,
  startBox,
  startStorescp,
  tempDir,
  type TestBox,
  storescu,
} from '../support/peers';
import { uid, writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';
import { BIN } from '../support/box-process';
import { startOrthanc } from '../support/orthanc';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';

/** The data set of a Part 10 file held in memory. */
function datasetBytesOf(file: Buffer): Buffer {
  return file.subarray(parsePart10Header(file).datasetOffset);
}

describe('DICOM TLS with DCMTK and Orthanc peers', function () {
  this.timeout(120_000);
  let certs: TestCertificates;
  let box: TestBox;
  let tlsPort: number;
  let dir: string;
  const lines: string[] = [];
  const stops: Array<() => Promise<unknown>> = [];

  /** storescp +tls on a free port with the given certificate; the box's node for it. */
  async function tlsDestination(
    name: string,
    cert: { cert: string; key: string },
    tlsSettings: NodeConfig['tls'],
  ): Promise<{ node: NodeConfig; dir: string; port: number }> {
    const scp = await startStorescp(['+tls', cert.key, cert.cert, '+cf', certs.ca]);
    stops.push(() => scp.stop());
    return {
      node: {
        name,
        ae: 'STORESCP',
        host: '127.0.0.1',
        port: scp.port,
        forward: false,
        tls: tlsSettings,
      },
      dir: scp.dir,
      port: scp.port,
    };
  }

  before(async () => {
    dir = tempDir('tls');
    certs = await makeCertificates(path.join(dir, 'certs'));
    tlsPort = await freePort();
    const unsubscribe = onLogLine((line) => lines.push(line));
    stops.push(async () => unsubscribe());
    box = await startBox({
      // storescp takes one association at a time: the forwarder's must not idle long.
      forwarding: { idleSeconds: 0.2 },
      tls: listenerTls(certs, tlsPort),
    });
    stops.push(() => box.stop());
  });

  after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });

  const clientTls = (): string[] => ['+tls', certs.client.key, certs.client.cert, '+cf', certs.ca];

  it('stores from storescu +tls with a client certificate', async () => {
    const files = await writeSyntheticStudy(path.join(dir, 'in'), 1700, 3);
    await storescu(tlsPort, files, clientTls());
    for (let i = 1; i <= 3; i++)
      assert.ok(await box.archive.instance(uid(1700, 1, i)), `instance ${i}`);
  });

  it('refuses, with a line naming the peer, what may not come in, and serves on', async () => {
    const refusedBefore = lines.filter((l) => /TLS handshake refused/.test(l)).length;
    // No client certificate (anonymous TLS), and one from a CA the box does not trust.
    const anonymous = await run('echoscu', ['+tla', '+cf', certs.ca, '127.0.0.1', String(tlsPort)]);
    assert.notEqual(anonymous.code, 0);
    const stranger = await run('echoscu', [
      '+tls',
      certs.stranger.key,
      certs.stranger.cert,
      '+cf',
      certs.ca,
      '127.0.0.1',
      String(tlsPort),
    ]);
    assert.notEqual(stranger.code, 0);
    // A plain peer on the TLS port; a TLS peer on the plain port.
    assert.notEqual((await run('echoscu', ['127.0.0.1', String(tlsPort)])).code, 0);
    assert.notEqual(
      (await run('echoscu', [...clientTls(), '127.0.0.1', String(box.port)])).code,
      0,
    );
    // A handshake cut short: the first bytes of a ClientHello, then the connection closed.
    await new Promise<void>((resolve) => {
      const raw = net.connect({ host: '127.0.0.1', port: tlsPort }, () =>
        raw.end(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])),
      );
      raw.on('close', () => resolve());
      raw.on('error', () => resolve());
    });
    const refusals = (): string[] =>
      lines
        .filter((l) => /TLS handshake refused peer=127\.0\.0\.1:\d+ reason=/.test(l))
        .slice(refusedBefore);
    await waitFor('the four refusals logged', async () => refusals().length >= 4);
    const [noCert, untrusted, plain, cut] = refusals();
    assert.match(cut!, /reason="socket hang up"/);
    assert.match(noCert!, /reason="no client certificate"/);
    assert.match(
      untrusted!,
      /reason="client certificate not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE"/,
    );
    assert.match(plain!, /reason="wrong version number"/);
    await waitFor('the TLS client on the plain port logged', async () =>
      lines.some((l) => /protocol error, aborting .*a TLS handshake: this port is not TLS/.test(l)),
    );
    // Serving on, both ways.
    assert.equal((await run('echoscu', ['127.0.0.1', String(box.port)])).code, 0);
    assert.equal((await run('echoscu', [...clientTls(), '127.0.0.1', String(tlsPort)])).code, 0);
  });

  it('forwards to storescp +tls with mutual authentication, byte-identical', async () => {
    const dest = await tlsDestination('secure', certs.server, {
      trustedCertificates: certs.ca,
      certificate: certs.client.cert,
      privateKey: certs.client.key,
      profile: 'bcp195-nd',
    });
    await box.liveConfig.change({ nodes: [{ ...dest.node, forward: true }] });
    const files = await writeSyntheticStudy(path.join(dir, 'fwd'), 1701, 2);
    await storescu(box.port, files);
    const received = await waitFor('both at storescp', async () => {
      const got = await listFiles(dest.dir);
      return got.length === 2 ? got : undefined;
    });
    const sent = await Promise.all(files.map(datasetBytes));
    const got = await Promise.all(received.map(datasetBytes));
    for (const s of sent)
      assert.ok(
        got.some((g) => g.equals(s)),
        'a data set arrived changed',
      );
    // The same node as a C-MOVE destination: the sub-operations go over TLS too.
    const moved = await run('movescu', [
      '-S',
      '-aec',
      'DICOM_EDGE',
      '-aem',
      'STORESCP',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${uid(1701)}`,
      '127.0.0.1',
      String(box.port),
    ]);
    assert.equal(moved.code, 0, moved.stderr);
    await waitFor('the C-MOVE done', async () =>
      lines.some((l) => /INFO {2}C-MOVE .*to=STORESCP@\S+ completed=2 failed=0/.test(l)),
    );
    await box.liveConfig.change({ nodes: [] });
  });

  it("checks the destination's identity: expired and wrong-host certificates are refused, a pinned one is taken", async () => {
    const trust = {
      trustedCertificates: certs.ca,
      certificate: certs.client.cert,
      privateKey: certs.client.key,
      profile: 'bcp195-nd' as const,
    };
    const expired = await tlsDestination('expired', certs.expired, trust);
    const wrong = await tlsDestination('wrong', certs.wrongHost, trust);
    const pinned = await tlsDestination('pinned', certs.wrongHost, {
      ...trust,
      pinnedSha256: new X509Certificate(await fs.readFile(certs.wrongHost.cert)).fingerprint256,
    });
    await box.liveConfig.change({ nodes: [expired.node, wrong.node, pinned.node] });
    await assert.rejects(() => box.forwarder.echo('expired'), /TLS: certificate has expired/);
    // The reason names what the certificate is for, not an empty list.
    await assert.rejects(
      () => box.forwarder.echo('wrong'),
      /^TlsConnectError: TLS: the certificate is for DNS:elsewhere\.example, not 127\.0\.0\.1$/,
    );
    // The command line says the same, with what to check.
    const cli = await run(BIN, ['echo', ...clientTls(), '127.0.0.1', String(wrong.port)]);
    assert.equal(cli.code, 3, cli.stderr);
    assert.equal(
      cli.stderr,
      'dicom-edge echo: TLS: the certificate is for DNS:elsewhere.example, not 127.0.0.1: ' +
        "check the certificates (+tls, +cf) and the peer's name\n",
    );
    assert.equal((await box.forwarder.echo('pinned')).status, 0);
    await box.liveConfig.change({ nodes: [] });
  });

  it('takes a new certificate while running: the next connection gets it', async () => {
    const subject = (): Promise<string> => servedSubject(tlsPort, certs);
    assert.equal(await subject(), 'dicom-edge test server');
    const tlsConfig = box.liveConfig.get().tls!;
    await box.liveConfig.change({
      tls: { ...tlsConfig, certificate: certs.wrongHost.cert, privateKey: certs.wrongHost.key },
    });
    await waitFor(
      'the new certificate served',
      async () => (await subject().catch(() => '')) === 'elsewhere',
    );
  });

  it('shows each certificate in the status, and warns 30 days before it expires', async () => {
    const tlsConfig = box.liveConfig.get().tls!;
    await box.liveConfig.change({
      tls: {
        ...tlsConfig,
        certificate: certs.expiringSoon.cert,
        privateKey: certs.expiringSoon.key,
      },
    });
    const status = runningStatus(
      await controlRequest(box.config.storageDir, { command: 'status' }),
    );
    const [listener] = status.certificates;
    assert.equal(listener?.use, 'TLS listener');
    assert.match(listener?.subject ?? '', /CN=renew me/);
    assert.ok(listener?.daysLeft === 9 || listener?.daysLeft === 10, String(listener?.daysLeft));
    assert.match(listener?.warning ?? '', /^expires in (9|10) days$/);
    assert.match(
      formatBoxStatus(status),
      /^certificate: {3}TLS listener: CN=renew me, valid until \d{4}-\d\d-\d\d \(WARNING: expires in (9|10) days\)$/m,
    );
  });

  it("the CLI's SCU commands take DCMTK's TLS options", async () => {
    const bin = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');
    const tlsArgs = ['+tls', certs.client.key, certs.client.cert, '+cf', certs.ca];
    const echo = await run(bin, ['echo', ...tlsArgs, '127.0.0.1', String(tlsPort)]);
    assert.equal(echo.code, 0, echo.stderr);
    assert.match(echo.stdout, /status 0x0000 \(success\)/);
    const [file] = await writeSyntheticStudy(path.join(dir, 'cli'), 1702, 1);
    const store = await run(bin, ['store', ...tlsArgs, '127.0.0.1', String(tlsPort), file!]);
    assert.equal(store.code, 0, store.stdout + store.stderr);
    assert.ok(await box.archive.instance(uid(1702, 1, 1)));
    // --node: a node of the configuration file, reached as the box reaches it (TLS and all).
    const config = path.join(dir, 'cli-config.json');
    await fs.writeFile(
      config,
      JSON.stringify({
        storageDir: path.join(dir, 'cli-storage'),
        nodes: [
          {
            name: 'edge',
            ae: 'DICOM_EDGE',
            host: '127.0.0.1',
            port: tlsPort,
            tls: {
              trustedCertificates: certs.ca,
              certificate: certs.client.cert,
              privateKey: certs.client.key,
            },
          },
        ],
      }),
    );
    const byNode = await run(bin, ['echo', '--node', 'edge', '--config', config]);
    assert.equal(byNode.code, 0, byNode.stderr);
    const noSuch = await run(bin, ['echo', '--node', 'nowhere', '--config', config]);
    assert.equal(noSuch.code, 2);
    assert.match(noSuch.stderr, /no node named "nowhere" in the configuration \(edge\)/);
    // The box's certificate is not trusted without its CA.
    const untrusted = await run(bin, [
      'echo',
      '+tls',
      certs.client.key,
      certs.client.cert,
      '127.0.0.1',
      String(tlsPort),
    ]);
    assert.notEqual(untrusted.code, 0);
    assert.match(
      untrusted.stderr,
      /TLS: .*(self.signed|unable to get local issuer|unable to verify)/i,
    );
  });

  it('speaks TLS with Orthanc both ways, with mutual authentication', async () => {
    const orthanc = await startOrthanc({
      ae: 'ORTHANC',
      tls: {
        certificate: certs.server.cert,
        privateKey: certs.server.key,
        trustedCertificates: certs.ca,
      },
      modalities: { box: { ae: 'DICOM_EDGE', host: '127.0.0.1', port: tlsPort, tls: true } },
    });
    stops.push(() => orthanc.stop());
    await box.liveConfig.change({
      nodes: [
        {
          name: 'orthanc',
          ae: 'ORTHANC',
          host: '127.0.0.1',
          port: orthanc.dicomPort,
          forward: true,
          tls: {
            trustedCertificates: certs.ca,
            certificate: certs.client.cert,
            privateKey: certs.client.key,
            profile: 'bcp195-nd',
          },
        },
      ],
    });
    // The box forwards to Orthanc over TLS, byte-identical.
    const [file] = await writeSyntheticStudy(path.join(dir, 'to-orthanc'), 1703, 1);
    await storescu(box.port, [file!]);
    const stored = await waitFor('the instance at Orthanc', () => orthanc.fileOf(uid(1703, 1, 1)));
    assert.ok((await datasetBytes(file!)).equals(datasetBytesOf(stored)));
    // Orthanc sends to the box's TLS listener, presenting its certificate.
    const [other] = await writeSyntheticStudy(path.join(dir, 'from-orthanc'), 1704, 1);
    const uploaded = JSON.parse(
      (await orthanc.rest('POST', '/instances', await fs.readFile(other!))).toString(),
    ) as { ID: string };
    await orthanc.rest(
      'POST',
      '/modalities/box/store',
      JSON.stringify({ Resources: [uploaded.ID] }),
    );
    await waitFor('the instance from Orthanc', () => box.archive.instance(uid(1704, 1, 1)));
    await box.liveConfig.change({ nodes: [] });
  });

  it('can take TLS only: port 0 opens no plain listener', async () => {
    const only = await startBox({
      port: 0,
      tls: { ...box.liveConfig.get().tls!, port: await freePort() },
    });
    stops.push(() => only.stop());
    assert.equal(only.port, 0);
    const tlsOnly = only.config.tls!.port;
    const r = await run('echoscu', [...clientTls(), '127.0.0.1', String(tlsOnly)]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lines.some((l) => /INFO {2}no plain DICOM listener \(port 0: TLS only\)/.test(l)));
  });
});
