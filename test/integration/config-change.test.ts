// Configuration read and changed over the control API: validated, written atomically to the
// box's file, applied live (AE title, port, nodes), refused as a whole with the key named.
import { strict as assert } from 'node:assert';
import { promises as fs, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { startAppliance, type RunningAppliance } from '../../firmware/appliance';
import { loadConfig } from '../../firmware/config/load';
import type { ChangeResult, ConfigView } from '../../firmware/config/live-config';
import { controlRequest } from '../../firmware/control/control-client';
import { Association } from '../../firmware/dicom/association';
import { tcpConnector } from '../../firmware/dicom/transport';
import { CommandField } from '../../firmware/dicom/dimse/command-field';
import { DimseRequestor } from '../../firmware/dicom/dimse/dimse-requestor';
import { VERIFICATION_SOP_CLASS } from '../../firmware/dicom/registry/uid';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../firmware/dicom/registry/transfer-syntaxes';
import type { DestinationReport } from '../../firmware/forward/forwarder';
import { echoLocal, freePort, listFiles, run, startStorescp, tempDir } from '../support/peers';
import { writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';
import { storeFiles } from '../../firmware/services/store-scu';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');

describe('configuration over the control API', function () {
  this.timeout(30_000);
  let dir: string;
  let file: string;
  let box: RunningAppliance;
  let storageDir: string;

  const set = (values: Record<string, unknown>): Promise<ChangeResult> =>
    controlRequest(storageDir, { command: 'config-set', set: values }) as Promise<ChangeResult>;
  const onDisk = (): Record<string, unknown> =>
    JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

  beforeEach(async () => {
    dir = tempDir('config-change');
    file = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(
      file,
      JSON.stringify({
        ae: 'EDGE_A',
        host: '127.0.0.1',
        port: await freePort(),
        storageDir: 'var',
        strictCalledAe: true,
        artimTimeout: 2,
      }),
    );
    const { config } = loadConfig(file);
    storageDir = config.storageDir;
    box = await startAppliance(config, file);
  });
  afterEach(async () => box.stop());

  it('shows the running configuration, the file and the keys set in it', async () => {
    const view = (await controlRequest(storageDir, { command: 'config' })) as ConfigView;
    assert.equal(view.config.ae, 'EDGE_A');
    assert.equal(view.config.storageDir, path.join(dir, 'var'));
    assert.equal(view.config.maxAssociations, 32); // a default
    assert.equal(view.file, file);
    assert.deepEqual(Object.keys(view.document).sort(), [
      'ae',
      'artimTimeout',
      'host',
      'port',
      'storageDir',
      'strictCalledAe',
    ]);
  });

  it('a new AE title takes effect at once and is written to the file, nothing else changed', async () => {
    const before = onDisk();
    const result = await set({ ae: 'EDGE_B' });
    assert.deepEqual(result.changed, ['ae']);
    assert.equal(result.persisted, true);
    assert.equal(await echoLocal(box.port, 'EDGE_B'), 0);
    await assert.rejects(() => echoLocal(box.port, 'EDGE_A'), /reject/i);
    assert.deepEqual(onDisk(), { ...before, ae: 'EDGE_B' });
    const leftovers = (await fs.readdir(dir)).filter((f) => f.includes('.tmp'));
    assert.deepEqual(leftovers, []);
  });

  it('a new port re-opens the listener without dropping an association in progress', async () => {
    const oldPort = box.port;
    const association = await Association.request({
      connect: tcpConnector('127.0.0.1', oldPort),
      callingAeTitle: 'TESTER',
      calledAeTitle: 'EDGE_A',
      maxPduLength: 65536,
      artimMs: 5000,
      presentationContexts: [
        {
          id: 1,
          abstractSyntax: VERIFICATION_SOP_CLASS,
          transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
        },
      ],
    });
    const requestor = new DimseRequestor(association);
    const cEcho = async (): Promise<number | undefined> =>
      (
        await requestor.request(1, {
          commandField: CommandField.CEchoRq,
          affectedSopClassUid: VERIFICATION_SOP_CLASS,
        })
      ).command.status;
    assert.equal(await cEcho(), 0);

    const newPort = await freePort();
    await set({ port: newPort });
    assert.equal(box.port, newPort);
    assert.equal(await cEcho(), 0, 'the open association still works');
    await association.release();
    assert.equal(await echoLocal(newPort, 'EDGE_A'), 0);
    await assert.rejects(() => echoLocal(oldPort, 'EDGE_A'), /ECONNREFUSED/);
    assert.equal(onDisk().port, newPort);
  });

  it('refuses invalid changes with the key and the reason; the running config and file stay', async () => {
    const fileBefore = readFileSync(file, 'utf8');
    const port = box.port;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ port: 70000 }, /config key "port": must be an integer from 0 to 65535/],
      [{ ae: 'A_TITLE_FAR_TOO_LONG' }, /config key "ae": must be at most 16 characters/],
      [{ colour: 'red' }, /config key "colour": is not a known setting/],
      [
        { ae: 'EDGE_C', nodes: [{ name: 'pacs', ae: 'PACS', host: '10.0.0.1', port: 0 }] },
        /config key "nodes\[0\]\.port"/,
      ],
      [{ storageDir: '/elsewhere' }, /config key "storageDir": cannot change while the box runs/],
    ];
    for (const [values, message] of cases) {
      await assert.rejects(() => set(values), message);
    }
    // A port another program holds: refused before anything is applied.
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        () => set({ port: taken, ae: 'EDGE_D' }),
        /config key "port": cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/,
      );
    } finally {
      holder.close();
    }
    assert.equal(readFileSync(file, 'utf8'), fileBefore);
    assert.equal(box.port, port);
    assert.equal(await echoLocal(port, 'EDGE_A'), 0);
    const view = (await controlRequest(storageDir, { command: 'config' })) as ConfigView;
    assert.equal(view.config.ae, 'EDGE_A');
    assert.deepEqual(view.config.nodes, []);
  });

  it('a metrics listener the box cannot open is refused; the old one answers, the file stays', async () => {
    const metricsPort = await freePort();
    await set({ metrics: { port: metricsPort } });
    const scrape = async (port: number): Promise<number> =>
      (await fetch(`http://127.0.0.1:${port}/metrics`)).status;
    assert.equal(await scrape(metricsPort), 200);
    const fileBefore = readFileSync(file, 'utf8');
    const cases: Array<[string, RegExp]> = [
      // An address of no interface of this box (EADDRNOTAVAIL).
      [
        'metrics.host=10.9.9.9',
        /^dicom-edge config set: config key "metrics\.host": cannot listen on 10\.9\.9\.9:\d+: .*EADDRNOTAVAIL/,
      ],
      // The box's own DICOM port (EADDRINUSE).
      [
        `metrics.port=${box.port}`,
        /^dicom-edge config set: config key "metrics\.port": cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/,
      ],
    ];
    for (const [assignment, message] of cases) {
      const r = await run(BIN, ['config', 'set', assignment, '--config', file]);
      assert.equal(r.code, 2, `${assignment}: ${r.stdout}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
      assert.equal(readFileSync(file, 'utf8'), fileBefore);
      assert.equal(await scrape(metricsPort), 200, `${assignment}: /metrics went dark`);
      assert.equal(await echoLocal(box.port, 'EDGE_A'), 0);
    }
    // The same port on another address of this box: the old listener hands it over.
    const moved = await run(BIN, ['config', 'set', 'metrics.host=0.0.0.0', '--config', file]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(await scrape(metricsPort), 200);
    const elsewhere = await freePort();
    await set({ metrics: { port: elsewhere, host: '127.0.0.1' } });
    assert.equal(await scrape(elsewhere), 200);
    await assert.rejects(() => scrape(metricsPort), /fetch failed/);
  });

  it('node changes reach the forwarder at once', async () => {
    const queue = (): Promise<DestinationReport[]> =>
      controlRequest(storageDir, { command: 'queue' }) as Promise<DestinationReport[]>;
    assert.deepEqual(await queue(), []);
    await set({ nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: 9, forward: true }] });
    assert.deepEqual(
      (await queue()).map((d) => [d.name, d.peer]),
      [['pacs', 'PACS@127.0.0.1:9']],
    );
    await set({
      nodes: [{ name: 'pacs', ae: 'PACS2', host: '127.0.0.1', port: 10, forward: true }],
    });
    assert.deepEqual(
      (await queue()).map((d) => [d.name, d.peer]),
      [['pacs', 'PACS2@127.0.0.1:10']],
    );
    await set({ nodes: null });
    assert.deepEqual(await queue(), []);
    assert.equal('nodes' in onDisk(), false, 'null removes the key');
  });

  it('a corrected destination address drains the queue at once, without waiting out the backoff', async () => {
    const storescp = await startStorescp();
    try {
      await set({
        forwarding: { retryInitialSeconds: 600, retryMaxSeconds: 600 },
        nodes: [{ name: 'pacs', ae: 'STORESCP', host: '127.0.0.1', port: 9, forward: true }],
      });
      const files = await writeSyntheticStudy(tempDir('config-change-files'), 60, 3);
      await storeFiles(
        { host: '127.0.0.1', port: box.port, callingAeTitle: 'T', calledAeTitle: 'EDGE_A' },
        files,
        () => undefined,
      );
      const queue = async (): Promise<DestinationReport | undefined> =>
        ((await controlRequest(storageDir, { command: 'queue' })) as DestinationReport[])[0];
      await waitFor(
        'the first attempt to fail',
        async () => (await queue())?.state === 'backing-off',
      );
      const started = Date.now();
      await set({
        nodes: [
          { name: 'pacs', ae: 'STORESCP', host: '127.0.0.1', port: storescp.port, forward: true },
        ],
      });
      await waitFor('the queue to drain', async () => (await queue())?.done === 3, 20_000);
      assert.ok(Date.now() - started < 20_000);
      assert.equal((await listFiles(storescp.dir)).length, 3);
    } finally {
      await storescp.stop();
    }
  });

  it('applies concurrent changes one at a time', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => set({ maxAssociations: 10 + i })),
    );
    assert.equal(results.length, 12);
    const final = onDisk().maxAssociations as number;
    const view = (await controlRequest(storageDir, { command: 'config' })) as ConfigView;
    assert.equal(view.config.maxAssociations, final);
    assert.ok(final >= 10 && final < 22);
  });

  it('`dicom-edge config set` changes it from the command line', async () => {
    const ok = await run(BIN, [
      'config',
      'set',
      'ae=EDGE_CLI',
      'forwarding.idleSeconds=3',
      '--config',
      file,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /changed: ae, forwarding \(written to /);
    assert.deepEqual(onDisk().forwarding, { idleSeconds: 3 });
    assert.equal(await echoLocal(box.port, 'EDGE_CLI'), 0);
    const bad = await run(BIN, ['config', 'set', 'port=http', '--config', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /config key "port": must be an integer/);
    const shown = await run(BIN, ['config', '--config', file]);
    assert.match(shown.stdout, /"ae": "EDGE_CLI"/);
  });

  it('`config set` names the key it sets: a misspelt one with the nearest, a rule between two (issue 27)', async () => {
    const fileBefore = readFileSync(file, 'utf8');
    const cases: Array<[string, RegExp]> = [
      [
        'forwarding.idleSecs=5',
        /^dicom-edge config set: config key "forwarding\.idleSecs": is not a known setting; did you mean forwarding\.idleSeconds\?\n$/,
      ],
      [
        'cache.evictAbovePercent=70',
        /^dicom-edge config set: config key "cache\.evictAbovePercent": must be above cache\.evictToPercent \(80\)\n$/,
      ],
    ];
    for (const [assignment, message] of cases) {
      const r = await run(BIN, ['config', 'set', assignment, '--config', file]);
      assert.equal(r.code, 2, `${assignment}: ${r.stdout}`);
      assert.match(r.stderr, message);
      assert.equal(readFileSync(file, 'utf8'), fileBefore);
    }
  });
});
