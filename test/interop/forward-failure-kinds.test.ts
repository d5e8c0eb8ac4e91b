// Why a destination fails, as a state and not only as text (issue 27): a certificate
// problem (expired, for another name, signed by a CA the box does not trust) is told from
// a destination nobody answers at and from one that rejects the association. The box runs
// as its own process and forwards to DCMTK's storescp (+tls with the test certificates,
// or --refuse) on 127.0.0.1; `queue`, the control API's status, the metrics and the
// dashboard (tmux, 80x24) each say which.
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { NodeConfig } from '../../firmware/config/config';
import { runningStatus } from '../../firmware/control/commands';
import { controlRequest } from '../../firmware/control/control-client';
import { storeFiles } from '../../firmware/services/store-scu';
import * as boxProcess from '../support/box-process';
import { makeCertificates, type TestCertificates } from '../support/certificates';
import { freePort, run, startStorescp, tempDir } from '../support/peers';
import { writeSyntheticStudy } from '../support/synthetic';
import { TmuxScreen } from '../support/tmux';
import { waitFor } from '../support/wait';

describe('forwarding failures by kind: certificate, unreachable, rejected', function () {
  this.timeout(120_000);
  let certs: TestCertificates;
  let box: boxProcess.BoxProcess;
  let metricsPort: number;
  const stops: Array<() => Promise<unknown>> = [];
  const screen = new TmuxScreen();

  /** storescp (DCMTK) with these arguments; the box's forwarding node for it. */
  async function destination(
    name: string,
    args: string[],
    tls?: NodeConfig['tls'],
  ): Promise<NodeConfig> {
    const scp = await startStorescp(args);
    stops.push(() => scp.stop());
    return {
      name,
      ae: 'STORESCP',
      host: '127.0.0.1',
      port: scp.port,
      forward: true,
      ...(tls ? { tls } : {}),
    };
  }

  before(async () => {
    const dir = tempDir('failure-kinds');
    certs = await makeCertificates(path.join(dir, 'certs'));
    const trust = {
      trustedCertificates: certs.ca,
      certificate: certs.client.cert,
      privateKey: certs.client.key,
      profile: 'bcp195-nd' as const,
    };
    const tlsServer = (cert: { cert: string; key: string }): string[] => [
      '+tls',
      cert.key,
      cert.cert,
      '+cf',
      certs.ca,
    ];
    metricsPort = await freePort();
    box = await boxProcess.startBoxProcess(
      await boxProcess.boxConfig({
        ae: 'KINDS_EDGE',
        metrics: { port: metricsPort, host: '127.0.0.1' },
        // The first five are those the dashboard has rows for at 80x24.
        nodes: [
          // Nobody listens there.
          { name: 'down', ae: 'DOWN', host: '127.0.0.1', port: await freePort(), forward: true },
          await destination('refusing', ['--refuse']),
          await destination('expired', tlsServer(certs.expired), trust),
          await destination('wrong', tlsServer(certs.wrongHost), trust),
          await destination('stranger', tlsServer(certs.stranger), trust),
          // The certificate is the server's, not the one pinned.
          await destination('pinned', tlsServer(certs.server), {
            ...trust,
            pinnedSha256: new X509Certificate(await fs.readFile(certs.wrongHost.cert))
              .fingerprint256,
          }),
          // storescp asks for a client certificate: the box has none to present.
          await destination('anonymous', tlsServer(certs.server), {
            trustedCertificates: certs.ca,
            profile: 'bcp195-nd',
          }),
        ],
      }),
    );
    stops.push(() => box.terminate());
    const files = await writeSyntheticStudy(path.join(dir, 'in'), 2702, 1);
    await storeFiles(
      { host: '127.0.0.1', port: box.port, callingAeTitle: 'MODALITY', calledAeTitle: 'X' },
      files,
      () => undefined,
    );
  });

  after(async () => {
    await screen.stop();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  it('`queue` names the kind of each failure beside its retry time', async () => {
    const expected: Record<string, string> = {
      expired: 'certificate \\(expired\\)',
      wrong: 'certificate \\(wrong-name\\)',
      stranger: 'certificate \\(untrusted\\)',
      pinned: 'certificate \\(not-pinned\\)',
      anonymous: 'certificate \\(ours-refused\\)',
      down: 'unreachable',
      refusing: 'rejected',
    };
    const queue = await waitFor('every destination failing', async () => {
      const r = await run(boxProcess.BIN, ['queue', '--config', box.configFile]);
      const failing = (r.stdout.match(/, retry \d\d:\d\d:\d\d/g) ?? []).length;
      return failing === 7 ? r.stdout : undefined;
    });
    for (const [name, kind] of Object.entries(expected))
      assert.match(queue, new RegExp(`^${name} +\\S+ +${kind}, retry \\d\\d:\\d\\d:\\d\\d `, 'm'));
  });

  it('the status gives each failure its kind, and a certificate its problem', async () => {
    const status = runningStatus(await controlRequest(box.storageDir, { command: 'status' }));
    const kinds = Object.fromEntries(
      status.destinations.map((d) => [d.name, [d.failureKind, d.certificateProblem]]),
    );
    assert.deepEqual(kinds, {
      expired: ['certificate', 'expired'],
      wrong: ['certificate', 'wrong-name'],
      stranger: ['certificate', 'untrusted'],
      pinned: ['certificate', 'not-pinned'],
      anonymous: ['certificate', 'ours-refused'],
      down: ['unreachable', null],
      refusing: ['rejected', null],
    });
  });

  it('the metrics have a series per kind: 1 for the failing one', async () => {
    const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (destination: string, kind: string): string | undefined =>
      new RegExp(
        `^dicom_edge_forward_failure\\{destination="${destination}",kind="${kind}"\\} (\\d)$`,
        'm',
      ).exec(body)?.[1];
    assert.equal(value('expired', 'certificate'), '1', body);
    assert.equal(value('expired', 'unreachable'), '0');
    assert.equal(value('down', 'unreachable'), '1');
    assert.equal(value('down', 'certificate'), '0');
    assert.equal(value('refusing', 'rejected'), '1');
  });

  it('the dashboard shows the kind as the STATE, at 80x24', async () => {
    await screen.start(`${boxProcess.BIN} dashboard --config ${box.configFile}`);
    const shown = await screen.until(/^ stranger +\S+ +yes +yes +certificate /m);
    assert.match(shown, /^>down +\S+ +yes +unreachable /m);
    assert.match(shown, /^ refusing +\S+ +yes +rejected /m);
    assert.match(shown, /^ expired +\S+ +yes +yes +certificate /m);
    assert.match(shown, /^ wrong +\S+ +yes +yes +certificate /m);
    assert.ok(shown.split('\n').every((l) => l.length <= 80));
  });
});
