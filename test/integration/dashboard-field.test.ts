// What an installer checks on the dashboard (tmux, 80x24) and in `status`, found wanting on
// a field day (issue 27): a node's port never cut, which nodes use TLS, a TLS-only box's TLS
// port, and a key's result that goes when the state it spoke of changes.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { storeFiles } from '../../firmware/services/store-scu';
import { listenerTls, makeCertificates } from '../support/certificates';
import { freePort, run, startStorescp, tempDir, waitForPort } from '../support/peers';
import { writeSyntheticStudy } from '../support/synthetic';
import { startPoisonScp } from '../support/poison-scp';
import { TmuxScreen } from '../support/tmux';
import { waitFor } from '../support/wait';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');

async function startBox(config: string, port: number): Promise<ChildProcess> {
  const child = spawn(BIN, ['start', '--config', config], { stdio: 'ignore' });
  await waitForPort(port);
  return child;
}

async function stopBox(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('dashboard and status as an installer reads them (tmux, 80x24)', function () {
  this.timeout(90_000);
  const stops: Array<() => Promise<void>> = [];
  const screen = new TmuxScreen();

  afterEach(async () => {
    await screen.stop();
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('shows the port of a long address, TLS per node, and a TLS-only box on its TLS port', async () => {
    const dir = tempDir('dash-field');
    const certs = await makeCertificates(path.join(dir, 'certs'));
    const tlsPort = await freePort();
    const config = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(
      config,
      JSON.stringify({
        ae: 'EDGE',
        host: '127.0.0.1',
        port: 0,
        tls: listenerTls(certs, tlsPort),
        storageDir: 'var',
        nodes: [
          { name: 'central', ae: 'CENTRAL_PACS', host: '127.0.0.1', port: 11112, forward: false },
          {
            name: 'secure',
            ae: 'PACS',
            host: '127.0.0.1',
            port: 2762,
            forward: false,
            tls: { profile: 'bcp195', trustedCertificates: certs.ca },
          },
        ],
      }),
    );
    const box = await startBox(config, tlsPort);
    stops.push(() => stopBox(box));

    const status = await run(BIN, ['status', '--config', config]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^EDGE on TLS port ${tlsPort} `, 'm'));
    const nodes = await run(BIN, ['node', 'list', '--config', config]);
    assert.match(nodes.stdout, /^central {2}CENTRAL_PACS@127\.0\.0\.1:11112$/m);
    assert.match(nodes.stdout, /^secure {2}PACS@127\.0\.0\.1:2762 {2}tls$/m);

    await screen.start(`${BIN} dashboard --config ${config}`);
    const shown = await screen.until(/^[ >]secure /m);
    assert.match(shown, new RegExp(`^EDGE on TLS port ${tlsPort} \\| `));
    // Before: "CENTRAL_PACS@127.0.0.1:111~"; the port is what the installer checks.
    assert.match(shown, /^>central +CENTRAL_\S*@127\.0\.0\.1:11112 +no$/m);
    assert.match(shown, /^ secure +PACS@127\.0\.0\.1:2762 +yes no$/m);
    assert.ok(shown.split('\n').every((l) => l.length <= 80));
  });

  it("shows a refused port's whole reason under its prompt, over two lines", async () => {
    const dir = tempDir('dash-refusal');
    const port = await freePort();
    const config = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(
      config,
      JSON.stringify({ ae: 'EDGE', host: '127.0.0.1', port, storageDir: 'var' }),
    );
    const box = await startBox(config, port);
    stops.push(() => stopBox(box));
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => taken.close(() => resolve())));
    const busy = (taken.address() as net.AddressInfo).port;
    await screen.start(`${BIN} dashboard --config ${config}`);
    await screen.until(/^a:AE p:port/m);
    await screen.keys('p', ...String(busy).split(''), 'Enter');
    const lines = (await screen.until(/EADDRINUSE/)).replace(/\n$/, '').split('\n');
    assert.equal(lines.length, 24);
    // The prompt, asking again, and under it the reason, whole and once.
    assert.match(lines[21]!, new RegExp(`^Port \\[${port}\\]: *$`));
    assert.equal(
      `${lines[22]!.trimEnd()} ${lines[23]!.trimEnd()}`,
      `config key "port": cannot listen on 127.0.0.1:${busy}: listen EADDRINUSE: ` +
        `address already in use 127.0.0.1:${busy}`,
    );
    assert.equal(lines.filter((l) => l.includes('EADDRINUSE')).length, 1);
    await screen.keys('Escape');
    await screen.until(/^unchanged/m);
  });

  it("drops a key's result when the destination's state changes: no 'success' beside 'unreachable'", async () => {
    const dir = tempDir('dash-stale');
    const pacs = await startStorescp();
    let pacsUp = true;
    const stopPacs = async (): Promise<void> => {
      if (pacsUp) await pacs.stop();
      pacsUp = false;
    };
    stops.push(stopPacs);
    const port = await freePort();
    const config = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(
      config,
      JSON.stringify({
        ae: 'EDGE',
        host: '127.0.0.1',
        port,
        storageDir: 'var',
        nodes: [
          { name: 'pacs', ae: 'STORESCP', host: '127.0.0.1', port: pacs.port, forward: true },
        ],
      }),
    );
    const box = await startBox(config, port);
    stops.push(() => stopBox(box));
    await screen.start(`${BIN} dashboard --config ${config}`);
    await screen.until(/^>pacs +STORESCP@/m);
    await screen.keys('c');
    await screen.until(/^echo pacs: 0x0000/m);

    // The PACS goes away and a study arrives: forwarding to it now fails.
    await stopPacs();
    const files = await writeSyntheticStudy(dir, 81, 1);
    await storeFiles(
      { host: '127.0.0.1', port, callingAeTitle: 'MODALITY', calledAeTitle: 'EDGE' },
      files,
      () => undefined,
    );
    const shown = await screen.until(/^>pacs +STORESCP@\S+ +yes +unreachable /m, 30_000);
    const after = await screen.until(/^pacs: failing since /m);
    assert.doesNotMatch(after, /echo pacs: 0x0000/, shown);
  });

  it("drops an echo's answer once the retry it started has failed: no 'success' beside 'retrying'", async () => {
    // The case: the PACS answers C-ECHO and refuses every C-STORE (out of
    // resources). The echo ends the backoff, the retry fails at once, and the destination
    // is backing off again, as it was before the echo.
    const pacs = await startPoisonScp(new Set());
    pacs.storeStatus = 0xa700;
    stops.push(() => pacs.down());
    const dir = tempDir('dash-echo');
    const port = await freePort();
    const config = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(
      config,
      JSON.stringify({
        ae: 'EDGE',
        host: '127.0.0.1',
        port,
        storageDir: 'var',
        // Only the echo ends a backoff here: no probe, no retry, within the test.
        forwarding: { retryInitialSeconds: 300, retryMaxSeconds: 600, probeSeconds: 3600 },
        nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: pacs.port, forward: true }],
      }),
    );
    const box = await startBox(config, port);
    stops.push(() => stopBox(box));
    const files = await writeSyntheticStudy(dir, 82, 1);
    await storeFiles(
      { host: '127.0.0.1', port, callingAeTitle: 'MODALITY', calledAeTitle: 'EDGE' },
      files,
      () => undefined,
    );
    await screen.start(`${BIN} dashboard --config ${config}`);
    await screen.until(/^>pacs +PACS@\S+ +yes +retrying /m);
    const refused = (): number => pacs.timeline.filter((t) => t.kind === 'refused').length;
    const before = refused();
    await screen.keys('c');
    await waitFor('the retry the echo started, refused', async () => refused() > before);
    const shown = await screen.until(/^pacs: failing since /m);
    assert.match(shown, /^>pacs +PACS@\S+ +yes +retrying /m);
    assert.doesNotMatch(shown, /echo pacs: 0x0000/);
  });
});
