// The serial console over a real pseudo-terminal pair (socat), typed on like minicom, and
// the same commands on stdin with `dicom-edge console`.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { onLogLine } from '../../firmware/log';
import { listSerialPorts } from '../../ui-tty/serial-console';
import { echoLocal, startBox, tempDir, type TestBox } from '../support/peers';
import { startPtyPair, Terminal, type PtyPair } from '../support/pty';
import { waitFor } from '../support/wait';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');
const PROMPT = /dicom-edge> $/;

function echoBox(box: TestBox, calledAeTitle = 'DICOM_EDGE'): Promise<number> {
  return echoLocal(box.port, calledAeTitle);
}

describe('serial console', function () {
  this.timeout(40_000);

  describe('over a pty', () => {
    let pty: PtyPair;
    let box: TestBox;
    let terminal: Terminal;
    before(async () => {
      const dir = tempDir('serial');
      pty = await startPtyPair(path.join(dir, 'ttyBOX'), path.join(dir, 'ttyME'));
      terminal = new Terminal(pty.terminalEnd);
      await terminal.open();
      box = await startBox({
        strictCalledAe: true,
        serial: { path: pty.boxEnd, baudRate: 115200 },
        nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: 9, forward: true }],
      });
      await terminal.until(/dicom-edge console on .*ttyBOX \(type help\)\r\ndicom-edge> $/);
    });
    after(async () => {
      await box.stop();
      await terminal.close();
      await pty.stop();
    });

    it('help, with CRLF line endings and the prompt after', async () => {
      const out = await terminal.type('help\r', PROMPT);
      assert.match(out, /^help\r\ncommands:\r\n {2}help {2,}this list\r\n/);
      assert.match(out, /\r\n {2}log \[N\] +the last N events \(default 20\)\r\ndicom-edge> $/);
    });

    it('status and queue', async () => {
      const status = await terminal.type('status\r', PROMPT);
      assert.match(status, new RegExp(`\\r\\nDICOM_EDGE on port ${box.port} `));
      assert.match(status, /\r\npacs +PACS@127\.0\.0\.1:9 /);
      const queue = await terminal.type('queue\r\n', PROMPT);
      assert.match(queue, /^queue\r\nDEST +AE@ADDRESS +STATE/);
    });

    it('show config, node add and node rm', async () => {
      let out = await terminal.type('node add viewer VIEWER 127.0.0.1 4006\r', PROMPT);
      assert.match(out, /ok: nodes changed \(not saved: the box has no config file\)/);
      out = await terminal.type('show config\r', PROMPT);
      assert.match(out, /\r\nae = "DICOM_EDGE"\r\n/);
      assert.match(out, /\r\n {2}viewer {2}VIEWER@127\.0\.0\.1:4006\r\n/);
      out = await terminal.type('node rm viewer\r', PROMPT);
      assert.match(out, /ok: nodes changed/);
      out = await terminal.type('node list\r', PROMPT);
      assert.doesNotMatch(out, /viewer/);
    });

    it('node set pacs associations: 1 is taken and listed, 0 and 17 refused with the key named (issue 30)', async () => {
      let out = await terminal.type('node set pacs associations 1\r', PROMPT);
      assert.match(out, /ok: nodes changed/);
      out = await terminal.type('node list\r', PROMPT);
      assert.match(out, /\r\npacs {2}PACS@127\.0\.0\.1:9 {2}forward {2}1 association\r\n/);
      for (const bad of ['0', '17']) {
        out = await terminal.type(`node set pacs associations ${bad}\r`, PROMPT);
        assert.match(
          out,
          /error: config key "nodes\[0\]\.associations": must be an integer from 1 to 16\r\n/,
        );
      }
      assert.equal(box.config.nodes.length, 1);
    });

    it('set ae takes effect for C-ECHO; set port refuses a bad value', async () => {
      const out = await terminal.type('set ae SERIAL_AE\r', PROMPT);
      assert.match(out, /ok: ae changed/);
      assert.equal(await echoBox(box, 'SERIAL_AE'), 0);
      const bad = await terminal.type('set port 99999\r', PROMPT);
      assert.match(bad, /error: config key "port": must be an integer from 0 to 65535\r\n/);
      await terminal.type('set ae DICOM_EDGE\r', PROMPT);
    });

    it('echo, retry and log', async () => {
      const e = await terminal.type('echo pacs\r', PROMPT);
      assert.match(e, /echo pacs: failed: .*ECONNREFUSED/);
      const r = await terminal.type('retry pacs\r', PROMPT);
      assert.match(r, /no failed jobs matched: nothing requeued/);
      const l = await terminal.type('log 2\r', PROMPT);
      assert.equal(l.split('\r\n').length, 4, JSON.stringify(l)); // echo, 2 lines, prompt
    });

    it('a bad command gets an error, a mistyped one the nearest; editing keys and Ctrl-C behave', async () => {
      const bad = await terminal.type('reboot now\r', PROMPT);
      assert.match(bad, /error: unknown command "reboot" \(type help\)\r\ndicom-edge> $/);
      const mistyped = await terminal.type('stauts\r', PROMPT);
      assert.match(
        mistyped,
        /error: unknown command "stauts"; did you mean status\? \(type help\)\r\ndicom-edge> $/,
      );
      const edited = await terminal.type('qx\x7fueue\x1b[A\r', PROMPT);
      assert.ok(edited.startsWith('qx\b \bueue\r\nDEST'), JSON.stringify(edited));
      const interrupted = await terminal.type('node rm pacs\x03', PROMPT);
      assert.equal(interrupted, 'node rm pacs^C\r\ndicom-edge> ');
    });
  });

  it('a missing port is logged once and retried; the box serves meanwhile and the console comes when the port does', async function () {
    const dir = tempDir('serial-missing');
    const boxEnd = path.join(dir, 'ttyBOX');
    const lines: string[] = [];
    const unsubscribe = onLogLine((line) => lines.push(line));
    const box = await startBox({ serial: { path: boxEnd, baudRate: 9600 } });
    let pty: PtyPair | undefined;
    let terminal: Terminal | undefined;
    try {
      await waitFor('the missing port logged', async () =>
        lines.some((l) => /WARN +serial port unavailable path=\S+ttyBOX/.test(l)),
      );
      assert.equal(await echoBox(box), 0);
      pty = await startPtyPair(boxEnd, path.join(dir, 'ttyME'));
      terminal = new Terminal(pty.terminalEnd);
      await terminal.open();
      await terminal.until(/dicom-edge> $/, 15_000); // within one retry (5 s)
      assert.equal(lines.filter((l) => /serial port unavailable/.test(l)).length, 1);
      // Unplugged: the other end goes away.
      await terminal.close();
      await pty.stop();
      await waitFor('the unplug logged', async () =>
        lines.some((l) => /WARN +serial port (closed|error)/.test(l)),
      );
      assert.equal(await echoBox(box), 0);
    } finally {
      unsubscribe();
      await box.stop();
      await terminal?.close();
      await pty?.stop();
    }
  });

  it('listing ports without udev gives no ports rather than an error', async () => {
    const ports = await listSerialPorts();
    assert.ok(Array.isArray(ports));
  });

  it('`dicom-edge console` runs the same commands on stdin', async () => {
    const box = await startBox();
    try {
      const cfg = path.join(tempDir('console-cfg'), 'dicom-edge.json');
      await fs.writeFile(cfg, JSON.stringify({ storageDir: box.config.storageDir }));
      const child = spawn(BIN, ['console', '--config', cfg]);
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stdin.end('status\nfrobnicate\nnode list\nexit\nstatus\n');
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^DICOM_EDGE on port ${box.port} `, 'm'));
      assert.match(stdout, /^error: unknown command "frobnicate" \(type help\)$/m);
      assert.match(stdout, /^\(no nodes\)$/m);
      assert.equal(stdout.match(/on port/g)?.length, 1, 'nothing runs after exit');
    } finally {
      await box.stop();
    }
  });
});
