// SIGHUP and `dicom-edge reload` on the box as its own process: the config file, edited by
// hand, is read again and put in force as `config set` would put it (the box runs on, the
// log names what changed); a file that is not valid is refused with its key named and the
// running settings stay; certificate files replaced under the same names are served to
// the next TLS connection.
import { strict as assert } from 'node:assert';
import { promises as fs, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { BIN, boxConfig, startBoxProcess, type BoxProcess } from '../support/box-process';
import { listenerTls, makeCertificates, servedSubject } from '../support/certificates';
import { echoLocal, freePort, run, tempDir } from '../support/peers';
import { waitFor } from '../support/wait';

/** The config file as the box reads it, changed by `edit`, written as an operator would. */
async function editConfig(
  box: BoxProcess,
  edit: (doc: Record<string, unknown>) => Record<string, unknown>,
): Promise<void> {
  const doc = JSON.parse(readFileSync(box.configFile, 'utf8')) as Record<string, unknown>;
  await fs.writeFile(box.configFile, JSON.stringify(edit(doc), null, 2));
}

/** The number of lines of the box's output matching `pattern`. */
function count(box: BoxProcess, pattern: RegExp): number {
  return box
    .output()
    .split('\n')
    .filter((l) => pattern.test(l)).length;
}

/** Sends SIGHUP and waits for the outcome line of that reload (done or refused). */
async function hangUp(box: BoxProcess): Promise<void> {
  const outcome = /configuration reload(ed| refused)/;
  const before = count(box, outcome);
  box.child.kill('SIGHUP');
  await waitFor(
    "the reload's outcome in the box's log",
    async () => {
      if (box.child.exitCode !== null || box.child.signalCode !== null)
        throw new Error(`the box ended (${box.child.signalCode ?? box.child.exitCode})`);
      return count(box, outcome) > before;
    },
    10_000,
    20,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- box output ---\n${box.output()}`);
  });
}

describe('SIGHUP and `dicom-edge reload`: the config file read again', function () {
  this.timeout(60_000);
  let box: BoxProcess;

  beforeEach(async () => {
    box = await startBoxProcess(await boxConfig({ ae: 'EDGE_A', strictCalledAe: true }));
  });
  afterEach(async () => {
    await box.kill9();
  });

  it('SIGHUP after an edit: the box runs on with the new AE title and node, the log names them', async () => {
    const viewerPort = await freePort();
    await editConfig(box, (doc) => ({
      ...doc,
      ae: 'EDGE_B',
      nodes: [{ name: 'viewer', ae: 'VIEWER', host: '127.0.0.1', port: viewerPort }],
    }));
    await hangUp(box);
    assert.equal(box.child.exitCode, null, box.output());
    assert.match(box.output(), /INFO {2}configuration reloaded changed=ae,nodes file=/);
    assert.doesNotMatch(box.output(), /stopping/);
    assert.equal(await echoLocal(box.port, 'EDGE_B'), 0);
    const nodes = await run(process.execPath, [BIN, 'node', 'list', '--config', box.configFile]);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, /viewer/);
    // Nothing changed since: said so, and the box still stops cleanly afterwards.
    await hangUp(box);
    assert.match(box.output(), /configuration reloaded changed=\(nothing\)/);
    assert.equal(await box.terminate(), 0, box.output());
    await fs.access(path.join(box.storageDir, 'clean-stop'));
    await assert.rejects(fs.access(path.join(box.storageDir, 'control.sock')));
  });

  it('SIGHUP with a bad file: refused with the key named, the running settings stay', async () => {
    await editConfig(box, (doc) => ({ ...doc, ae: 'EDGE_B', port: 'http' }));
    await hangUp(box);
    assert.equal(box.child.exitCode, null, box.output());
    assert.match(
      box.output(),
      /ERROR configuration reload refused: the running settings stay reason="config key \\"port\\": must be an integer/,
    );
    assert.equal(await echoLocal(box.port, 'EDGE_A'), 0);
    await assert.rejects(echoLocal(box.port, 'EDGE_B'), /association rejected/);
    // Text that is not JSON at all: refused the same way.
    await fs.writeFile(box.configFile, '{ "ae": "EDGE_B", ');
    await hangUp(box);
    assert.match(box.output(), /configuration reload refused[^\n]*is not valid JSON/);
    assert.equal(await echoLocal(box.port, 'EDGE_A'), 0);
  });

  it('`dicom-edge reload` says what changed (exit 0), or refuses a bad file with the key (exit 2)', async () => {
    const reload = () => run(process.execPath, [BIN, 'reload', '--config', box.configFile]);
    const same = await reload();
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout, `no change (${box.configFile})\n`);
    await editConfig(box, (doc) => ({ ...doc, ae: 'EDGE_C', maxAssociations: 4 }));
    const changed = await reload();
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.stdout, `reloaded: ae, maxAssociations (${box.configFile})\n`);
    assert.equal(await echoLocal(box.port, 'EDGE_C'), 0);
    await editConfig(box, (doc) => ({ ...doc, ae: 'EDGE_D', maxAssociations: -1 }));
    const bad = await reload();
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /config key "maxAssociations"/);
    assert.equal(await echoLocal(box.port, 'EDGE_C'), 0);
    // A new port is bound before anything else changes: a port taken refuses the file.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    try {
      const takenPort = (taken.address() as net.AddressInfo).port;
      await editConfig(box, (doc) => ({ ...doc, maxAssociations: 4, port: takenPort }));
      const refused = await reload();
      assert.equal(refused.code, 2, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /config key "port": cannot listen on 127\.0\.0\.1:\d+/);
      assert.equal(await echoLocal(box.port, 'EDGE_C'), 0);
    } finally {
      taken.close();
    }
    const moved = await freePort();
    await editConfig(box, (doc) => ({ ...doc, ae: 'EDGE_C', port: moved }));
    assert.equal((await reload()).stdout, `reloaded: port (${box.configFile})\n`);
    assert.equal(await echoLocal(moved, 'EDGE_C'), 0);
    assert.equal(box.child.exitCode, null);
  });
});

describe('SIGHUP with renewed certificate files: the next TLS connection gets them', function () {
  this.timeout(60_000);

  it('certificate and key replaced under the same names, then SIGHUP', async () => {
    const dir = tempDir('reload-tls');
    const certs = await makeCertificates(path.join(dir, 'certs'));
    // The files the config names, replaced later as a renewal (certbot, an operator) would.
    const cert = path.join(dir, 'listener.crt');
    const key = path.join(dir, 'listener.key');
    await fs.copyFile(certs.server.cert, cert);
    await fs.copyFile(certs.server.key, key);
    const tlsPort = await freePort();
    const box = await startBoxProcess(
      await boxConfig({
        tls: { ...listenerTls(certs, tlsPort), certificate: cert, privateKey: key },
      }),
    );
    try {
      const served = (): Promise<string> => servedSubject(tlsPort, certs);
      assert.equal(await served(), 'dicom-edge test server');
      await fs.copyFile(certs.expiringSoon.cert, cert);
      await fs.copyFile(certs.expiringSoon.key, key);
      await hangUp(box);
      assert.match(box.output(), /configuration reloaded changed="tls certificates"/);
      assert.equal(await served(), 'renew me');
      assert.equal(box.child.exitCode, null);
    } finally {
      await box.terminate();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
