// A destination that comes back is used again at once (issue 24, point 3): while it backs
// off, the box checks it cheaply (C-ECHO, or the DICOMweb query) every few seconds and
// resumes the moment it answers, however long the backoff had grown. A successful echo
// (the control API's, or `dicom-edge echo --node` in its own process) and `queue retry
// DEST` end a backoff too, and say so. A destination that answers C-ECHO while it refuses
// C-STOREs is woken once, then backs off with the grown delay: no tight loop.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { DicomwebNodeConfig, ForwardingConfig } from '../../firmware/config/config';
import { controlRequest } from '../../firmware/control/control-client';
import type { DestinationReport } from '../../firmware/forward/forwarder';
import { onLogLine } from '../../firmware/log';
import { echo } from '../../firmware/services/echo-scu';
import { BIN } from '../support/box-process';
import { freePort, run, startBox, storeInto, tempDir, type TestBox } from '../support/peers';
import { startPoisonScp, type PoisonScp } from '../support/poison-scp';
import { writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';

/** A backoff as long as after a long outage: 300-600 s from the first failure. */
const LONG_BACKOFF: Partial<ForwardingConfig> = { retryInitialSeconds: 600, retryMaxSeconds: 600 };
/** The same, with the probe out of the way: only what the test does can end it. */
const NO_PROBE: Partial<ForwardingConfig> = { ...LONG_BACKOFF, probeSeconds: 3600 };

/** A STOW-RS destination on a port of this machine where nothing may listen yet. */
function cloudNode(port: number): DicomwebNodeConfig {
  return {
    name: 'cloud',
    kind: 'dicomweb',
    url: `http://127.0.0.1:${port}/dicom-web`,
    forward: true,
    batch: { maxInstances: 50, maxBytes: 64 * 1024 * 1024 },
    timeoutSeconds: 10,
  };
}

describe('forwarding resumes when the destination is back', function () {
  this.timeout(60_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });

  async function boxTo(
    port: number,
    forwarding: Partial<ForwardingConfig>,
  ): Promise<{ box: TestBox; config: string }> {
    const nodes = [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port, forward: true }];
    const box = await startBox({ nodes, forwarding });
    cleanups.push(() => box.stop());
    // The command line finds the box (and the node) from a configuration like the box's.
    const config = path.join(tempDir('resume-cli'), 'dicom-edge.json');
    await fs.writeFile(config, JSON.stringify({ storageDir: box.config.storageDir, nodes }));
    return { box, config };
  }

  async function scpDown(): Promise<PoisonScp> {
    const scp = await startPoisonScp(new Set());
    cleanups.push(() => scp.down());
    await scp.down();
    return scp;
  }

  async function pacs(box: TestBox): Promise<DestinationReport> {
    return (await box.forwarder.report()).find((d) => d.name === 'pacs')!;
  }

  /** Sends `count` instances to the box and waits until its first attempt has failed. */
  async function backingOff(box: TestBox, study: number, count = 1): Promise<void> {
    await storeInto(box, await writeSyntheticStudy(tempDir('resume'), study, count));
    const r = await waitFor('backing off', async () => {
      const p = await pacs(box);
      return p.state === 'backing-off' && p.retryAt !== null && p;
    });
    assert.ok(Date.parse(r.retryAt!) - Date.now() > 200_000, `a long backoff: ${r.retryAt}`);
  }

  it('a PACS back after a long outage gets its first delivery within seconds of listening, not at the end of the backoff', async () => {
    const scp = await scpDown();
    const { box } = await boxTo(scp.port, LONG_BACKOFF);
    await backingOff(box, 2400, 3);
    await scp.up();
    const listening = performance.now();
    await waitFor('all 3 delivered', async () => (await pacs(box)).done === 3, 10_000);
    const first = scp.timeline.find((e) => e.kind === 'stored')!;
    const seconds = (first.at - listening) / 1000;
    console.log(
      `      seconds from the PACS listening again to the first delivery: ${seconds.toFixed(2)}`,
    );
    assert.ok(seconds < 5, `${seconds} s`);
    const r = await pacs(box);
    assert.deepEqual([r.consecutiveFailures, r.lastError, r.retryAt], [0, null, null]);
  });

  it('a PACS that answers C-ECHO but refuses C-STOREs (A700) is woken once, then backs off with the grown delay', async () => {
    const scp = await startPoisonScp(new Set());
    cleanups.push(() => scp.down());
    scp.storeStatus = 0xa700;
    const { box } = await boxTo(scp.port, {
      retryInitialSeconds: 4,
      retryMaxSeconds: 600,
      probeSeconds: 0.5,
    });
    await storeInto(box, await writeSyntheticStudy(tempDir('resume'), 2401, 1));
    const refusals = (): number => scp.timeline.filter((e) => e.kind === 'refused').length;
    await waitFor('the first refusal', async () => refusals() >= 1);
    const firstAt = scp.timeline.find((e) => e.kind === 'refused')!.at;
    // The probe answers within a second: one more try. Then the backoff (4-8 s) holds,
    // although every probe answers.
    await waitFor('the second try', async () => refusals() >= 2, 3000);
    await new Promise((r) => setTimeout(r, 4000 - (performance.now() - firstAt)));
    assert.equal(refusals(), 2, 'two tries in the first 4 s, not one per probe');
    const echoes = scp.timeline.filter((e) => e.kind === 'echoed' && e.at > firstAt).length;
    assert.ok(echoes >= 3 && echoes <= 9, `probes, one per 0.5 s: ${echoes}`);
    const r = await pacs(box);
    assert.equal(r.consecutiveFailures, 2);
    assert.equal(r.state, 'backing-off');
  });

  it('`dicom-edge queue retry pacs` ends the backoff, says so, and the queue goes at once', async () => {
    const scp = await scpDown();
    const { box, config } = await boxTo(scp.port, NO_PROBE);
    await backingOff(box, 2402);
    await scp.up();
    const retried = await run(process.execPath, [
      BIN,
      'queue',
      'retry',
      'pacs',
      '--config',
      config,
    ]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(
      retried.stdout,
      'no failed jobs matched: nothing requeued\npacs: backoff ended, retrying now\n',
    );
    await waitFor('delivered', async () => (await pacs(box)).done === 1, 10_000);
    const again = await run(process.execPath, [BIN, 'queue', 'retry', 'pacs', '--config', config]);
    assert.equal(
      again.stdout,
      'no failed jobs matched: nothing requeued\npacs: was not backing off\n',
    );
  });

  it('`dicom-edge echo --node pacs`, in its own process, wakes the running box', async () => {
    const scp = await scpDown();
    const { box, config } = await boxTo(scp.port, NO_PROBE);
    await backingOff(box, 2403);
    await scp.up();
    const echoed = await run(process.execPath, [BIN, 'echo', '--node', 'pacs', '--config', config]);
    assert.equal(echoed.code, 0, echoed.stderr);
    assert.equal(
      echoed.stdout,
      `C-ECHO 127.0.0.1:${scp.port}: status 0x0000 (success)\n` +
        'the running box was backing off from pacs: it retries now\n',
    );
    await waitFor('delivered', async () => (await pacs(box)).done === 1, 10_000);
  });

  it("the control API's echo (the dashboard's c, the console's echo) wakes it and says so", async () => {
    const scp = await scpDown();
    const { box } = await boxTo(scp.port, NO_PROBE);
    await backingOff(box, 2404);
    await scp.up();
    const answer = await controlRequest(box.config.storageDir, { command: 'echo', node: 'pacs' });
    assert.deepEqual(answer, { status: 0, backoffEnded: true });
    await waitFor('delivered', async () => (await pacs(box)).done === 1, 10_000);
  });

  it('a probe of a PACS that takes the association and never answers the C-ECHO ends', async () => {
    const scp = await startPoisonScp(new Set());
    cleanups.push(() => scp.down());
    scp.answers = false;
    const peer = {
      host: '127.0.0.1',
      port: scp.port,
      callingAeTitle: 'EDGE',
      calledAeTitle: 'PACS',
    };
    await assert.rejects(echo(peer, 300), /no C-ECHO-RSP within 0\.3 s/);
  });

  it('a DICOMweb destination is checked with its QIDO-RS query, and sent to once it answers', async () => {
    const port = await freePort();
    const box = await startBox({ nodes: [cloudNode(port)], forwarding: LONG_BACKOFF });
    cleanups.push(() => box.stop());
    await storeInto(box, await writeSyntheticStudy(tempDir('resume-stow'), 2405, 2));
    const cloud = async (): Promise<DestinationReport> => (await box.forwarder.report())[0]!;
    await waitFor('backing off', async () => (await cloud()).state === 'backing-off');
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      // A query finds no study; a STOW-RS request is taken whole (200 with no body).
      req.on('end', () => res.writeHead(200).end(req.method === 'GET' ? '[]' : ''));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    await waitFor('both delivered', async () => (await cloud()).done === 2, 10_000);
    assert.equal(requests[0], 'GET /dicom-web/studies?limit=1', requests.join(', '));
    assert.equal(requests.at(-1), 'POST /dicom-web/studies');
  });

  it('a refused connection is the destination’s trouble, not the instance’s, even when the destination answers a moment later (issue 30)', async () => {
    const port = await freePort();
    const box = await startBox({ nodes: [cloudNode(port)], forwarding: LONG_BACKOFF });
    cleanups.push(() => box.stop());
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end(req.method === 'GET' ? '[]' : ''));
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    // The service starts listening 50 ms after the box began its request: the request's
    // connection is refused, the check that follows it finds the service answering.
    const lines: string[] = [];
    const stop = onLogLine((line) => {
      lines.push(line);
      if (/ forwarding dest=cloud/.test(line) && !server.listening)
        setTimeout(() => server.listen(port, '127.0.0.1'), 50);
    });
    cleanups.push(async () => stop());
    await storeInto(box, await writeSyntheticStudy(tempDir('refused-stow'), 2406, 1));
    const cloud = async (): Promise<DestinationReport> => (await box.forwarder.report())[0]!;
    await waitFor('delivered', async () => (await cloud()).done === 1, 15_000);
    assert.ok(
      lines.some((l) => /forwarding paused dest=cloud kind=unreachable .*ECONNREFUSED/.test(l)),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => /instance set aside/.test(l)), lines.join('\n'));
  });
});
