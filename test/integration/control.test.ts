// The local control API: status with concurrent clients, and `dicom-edge status`.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ControlCommandError } from '../../firmware/control/commands';
import { controlRequest } from '../../firmware/control/control-client';
import type { BoxStatus } from '../../firmware/control/status';
import { storeFiles } from '../../firmware/services/store-scu';
import { run, startBox, tempDir, type TestBox } from '../support/peers';
import { writeSyntheticStudy } from '../support/synthetic';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');

describe('control API', function () {
  this.timeout(30_000);
  let box: TestBox;
  before(async () => {
    box = await startBox({
      nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: 9, forward: true }],
    });
    const files = await writeSyntheticStudy(tempDir('control'), 90, 3);
    await storeFiles(
      { host: '127.0.0.1', port: box.port, callingAeTitle: 'T', calledAeTitle: 'DICOM_EDGE' },
      files,
      () => undefined,
    );
  });
  after(async () => box.stop());

  it('answers status: identity, today, cache, destinations and recent events', async () => {
    const s = (await controlRequest(box.config.storageDir, { command: 'status' })) as BoxStatus;
    assert.equal(s.ae, 'DICOM_EDGE');
    assert.equal(s.port, box.port);
    assert.match(s.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(s.today.instances, 3);
    assert.ok(s.today.bytes > 3 * 8000);
    assert.equal(s.cache.instances, 3);
    assert.ok(s.cache.diskFreeBytes > 0 && s.cache.diskTotalBytes >= s.cache.diskFreeBytes);
    assert.deepEqual(
      s.destinations.map((d) => [d.name, d.queued]),
      [['pacs', 3]],
    );
    assert.ok(
      s.recentEvents.some((l) => /stored peer=T@/.test(l)),
      s.recentEvents.join('\n'),
    );
  });

  it('serves twenty clients at once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        controlRequest(box.config.storageDir, i % 2 ? { command: 'status' } : { command: 'queue' }),
      ),
    );
    assert.equal(answers.length, 20);
    assert.ok(answers.every((a) => a !== null && typeof a === 'object'));
  });

  it('refuses unknown commands and malformed requests with a message', async () => {
    await assert.rejects(
      () => controlRequest(box.config.storageDir, { command: 'reboot' } as never),
      /unknown command "reboot"/,
    );
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(path.join(box.config.storageDir, 'control.sock'), () =>
        socket.write('not json at all\n'),
      );
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        socket.end();
        resolve(d);
      });
      socket.on('error', reject);
    });
    assert.deepEqual(JSON.parse(answer), {
      ok: false,
      error: { kind: 'bad-request', message: 'a request is one line of JSON' },
    });
  });

  it('answers with structured errors: the kind, and the key a refused setting names', async () => {
    await assert.rejects(
      () => controlRequest(box.config.storageDir, { command: 'reboot' } as never),
      (err: ControlCommandError) => err.kind === 'unknown-command',
    );
    await assert.rejects(
      () => controlRequest(box.config.storageDir, { command: 'check', digest: true } as never),
      (err: ControlCommandError) =>
        err.kind === 'bad-request' && /check needs "repair" \(true or false\)/.test(err.message),
    );
    await assert.rejects(
      () =>
        controlRequest(box.config.storageDir, {
          command: 'config-set',
          set: { cache: { evictToPercent: 95 } },
        }),
      (err: ControlCommandError) =>
        err.kind === 'config' &&
        err.key === 'cache.evictToPercent' &&
        /must be below cache.evictAbovePercent/.test(err.message),
    );
    await assert.rejects(
      () =>
        controlRequest(box.config.storageDir, {
          command: 'cache-protect',
          study: '1.2.3.4',
          protect: true,
        }),
      (err: ControlCommandError) => err.kind === 'not-found',
    );
  });

  it('`dicom-edge status` prints it', async () => {
    const cfg = path.join(tempDir('status-cfg'), 'dicom-edge.json');
    await fs.writeFile(cfg, JSON.stringify({ storageDir: box.config.storageDir }));
    const r = await run(BIN, ['status', '--config', cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^DICOM_EDGE on port ${box.port}`, 'm'));
    assert.match(r.stdout, /^received today: 3 instances/m);
    assert.match(r.stdout, /^pacs +PACS@127\.0\.0\.1:9 /m);
  });
});
