// The terminal dashboard in a real terminal (tmux, 80x24), attached to a box running as
// its own process: it shows the AE title and a destination's queue, a keyboard edit of the
// AE title takes effect (C-ECHO to the new title) and survives a restart of the box, a
// refused value is explained where it was typed, and `r` says the backoff it ended. The
// node editor checks each answer at its own prompt and saves only the fields changed.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { storeFiles } from '../../firmware/services/store-scu';
import * as boxProcess from '../support/box-process';
import { echoLocal, freePort, run, tempDir, waitForPort } from '../support/peers';
import { writeSyntheticStudy } from '../support/synthetic';
import { TmuxScreen } from '../support/tmux';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');

async function startBoxProcess(config: string, port: number): Promise<ChildProcess> {
  const child = spawn(BIN, ['start', '--config', config], { stdio: 'ignore' });
  await waitForPort(port);
  return child;
}

async function stopBoxProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('terminal dashboard (tmux, 80x24)', function () {
  this.timeout(60_000);
  let dir: string;
  let config: string;
  let port: number;
  let box: ChildProcess | undefined;
  const screen = new TmuxScreen();

  before(async () => {
    dir = tempDir('dashboard');
    config = path.join(dir, 'dicom-edge.json');
    port = await freePort();
    await fs.writeFile(
      config,
      JSON.stringify({
        ae: 'CLINIC_EDGE',
        host: '127.0.0.1',
        port,
        storageDir: 'var',
        strictCalledAe: true,
        // Nobody listens on port 9: the instances wait in the queue.
        nodes: [{ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: 9, forward: true }],
      }),
    );
    box = await startBoxProcess(config, port);
    const files = await writeSyntheticStudy(dir, 70, 2);
    await storeFiles(
      { host: '127.0.0.1', port, callingAeTitle: 'MODALITY', calledAeTitle: 'CLINIC_EDGE' },
      files,
      () => undefined,
    );
    await screen.start(`${BIN} dashboard --config ${config}`);
  });

  after(async () => {
    await screen.stop();
    if (box) await stopBoxProcess(box);
  });

  it('shows the AE title and the destination queue, within 80x24', async () => {
    const shown = await screen.until(/^[ >]pacs +PACS@127\.0\.0\.1:9 +yes +\S+ +2 /m);
    assert.match(shown, new RegExp(`^CLINIC_EDGE on port ${port} \\| up `));
    assert.match(shown, /^Receive .* today 2 inst /m);
    assert.match(shown, /^Cache 2 inst\/1 studies/m);
    assert.match(shown, /^Health /m);
    assert.match(shown, /stored peer=MODALITY@/);
    const lines = shown.replace(/\n$/, '').split('\n');
    assert.equal(lines.length, 24);
    assert.ok(lines.every((l) => l.length <= 80));
    assert.match(lines[23]!, /^a:AE p:port n:add .* q:quit/);
  });

  it('at 80 columns keeps the version, the end of each SOP UID and the whole error with its time', async () => {
    const { version } = JSON.parse(
      await fs.readFile(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'),
    ) as { version: string };
    const shown = await screen.until(/^pacs: failing since \d\d:\d\d:\d\d: /m);
    const lines = shown.replace(/\n$/, '').split('\n');
    assert.match(
      lines[0]!,
      new RegExp(`\\| dicom-edge ${version.replace(/\./g, '\\.')} +\\d\\d:\\d\\d:\\d\\d$`),
    );
    // The events name each instance by its UID's end (uid(70, 1, n) ends in .70.1.n).
    assert.match(shown, /stored peer=MODALITY@\S+ sop=\S*\.70\.1\.[12]\b/);
    // The selected node's problem, whole, over the lines it needs above the keys.
    const at = lines.findIndex((l) => l.startsWith('pacs: failing since'));
    const message = lines
      .slice(at, 23)
      .map((l) => l.trimEnd())
      .join(' ');
    assert.match(message, /^pacs: failing since \d\d:\d\d:\d\d: .*127\.0\.0\.1:9.*ECONNREFUSED/);
  });

  it('r ends the backoff of a destination that is retrying, and says so', async () => {
    await screen.until(/^[ >]pacs +PACS@127\.0\.0\.1:9 +yes +unreachable /m);
    await screen.keys('r');
    await screen.until(/^0 failed job\(s\) requeued; pacs: backoff ended, retrying now/m);
  });

  it('explains a refused value where it was typed, and asks again', async () => {
    // The prompt shows the current value; typing replaces it, never appends to it.
    await screen.keys('p');
    await screen.until(new RegExp(`^Port \\[${port}\\]:`, 'm'));
    await screen.keys('h', 't', 't', 'p');
    await screen.until(new RegExp(`^Port \\[${port}\\]: http`, 'm'));
    await screen.keys('Enter');
    await screen.until(/^config key "port": must be an integer from 0 to 65535/m);
    assert.match(await screen.capture(), new RegExp(`^Port \\[${port}\\]:`, 'm'));
    await screen.keys('Escape');
    await screen.until(/^unchanged/m);
  });

  it('an AE title edited on the keyboard takes effect and survives a restart', async () => {
    // Typed over the prefilled CLINIC_EDGE: the new title, not CLINIC_EDGEDASH_AE.
    await screen.keys('a', ...'DASH_AE'.split(''), 'Enter');
    await screen.until(/^AE title is now DASH_AE \(saved\)/m);
    assert.equal(await echoLocal(port, 'DASH_AE'), 0);
    await assert.rejects(() => echoLocal(port, 'CLINIC_EDGE'), /reject/i);

    await stopBoxProcess(box!);
    await screen.until(/box not answering|no box is running/);
    box = await startBoxProcess(config, port);
    assert.equal(await echoLocal(port, 'DASH_AE'), 0);
    await screen.until(/^DASH_AE on port/);
    const saved = JSON.parse(await fs.readFile(config, 'utf8')) as Record<string, unknown>;
    assert.equal(saved.ae, 'DASH_AE');
    assert.equal(saved.storageDir, 'var', 'the rest of the file is as it was');
  });
});

describe('dicom-edge start --dashboard (tmux)', function () {
  this.timeout(60_000);
  const screen = new TmuxScreen();
  after(() => screen.stop());

  it('runs the box with its dashboard on the terminal; q asks, then stops the box', async () => {
    const dir = tempDir('start-dashboard');
    const config = path.join(dir, 'dicom-edge.json');
    const port = await freePort();
    await fs.writeFile(
      config,
      JSON.stringify({ ae: 'LOCAL_SCREEN', host: '127.0.0.1', port, storageDir: 'var' }),
    );
    await screen.start(`${BIN} start --dashboard --config ${config}; echo box-exited-$?; sleep 30`);
    await screen.until(new RegExp(`^LOCAL_SCREEN on port ${port} \\| up `));
    assert.equal(await echoLocal(port, 'LOCAL_SCREEN'), 0);
    // The log lines are on the dashboard's events panel, not written over it.
    assert.doesNotMatch(await screen.capture(), /^\d{4}-\d\d-\d\dT.*INFO/m);
    await screen.keys('q');
    await screen.until(/^Stop dicom-edge\? \(y\/N\):/m);
    await screen.keys('n', 'Enter');
    await screen.until(/^still running/m);
    assert.equal(await echoLocal(port, 'LOCAL_SCREEN'), 0);
    await screen.keys('q');
    await screen.until(/^Stop dicom-edge\? \(y\/N\):/m);
    await screen.keys('y', 'Enter');
    await screen.until(/^box-exited-0$/m);
    await assert.rejects(() => echoLocal(port, 'LOCAL_SCREEN'), /ECONNREFUSED/);
  });
});

describe("the dashboard's node editor (tmux, 80x24)", function () {
  this.timeout(90_000);
  let box: boxProcess.BoxProcess;
  const screen = new TmuxScreen();

  const savedNode = async (name: string): Promise<Record<string, unknown> | undefined> => {
    const file = JSON.parse(await fs.readFile(box.configFile, 'utf8')) as {
      nodes: Array<Record<string, unknown>>;
    };
    return file.nodes.find((n) => n.name === name);
  };
  /** Waits for each prompt in turn and presses Enter at it: its default is kept. */
  const enterThrough = async (...prompts: RegExp[]): Promise<void> => {
    for (const prompt of prompts) {
      await screen.until(prompt);
      await screen.keys('Enter');
    }
  };
  const type = (text: string): Promise<void> =>
    screen.keys(...[...text].map((c) => (c === ' ' ? 'Space' : c)));

  before(async () => {
    box = await boxProcess.startBoxProcess(
      await boxProcess.boxConfig({
        ae: 'EDITOR_EDGE',
        // Nobody listens on ports 9 and 10: nothing here needs a peer.
        nodes: [
          { name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: 9, forward: true },
          { name: 'viewer', ae: 'VIEWER', host: '127.0.0.1', port: 10, forward: false },
        ],
      }),
    );
    await screen.start(`${BIN} dashboard --config ${box.configFile}`);
    await screen.until(/^[ >]viewer +VIEWER@127\.0\.0\.1:10 /m);
  });

  after(async () => {
    await screen.stop();
    await box?.terminate();
  });
  // Keys typed before the last test's form has ended are dropped: wait for the keys' line.
  beforeEach(() => screen.until(/^a:AE p:port n:add/m));

  it('asks "Forward to it?" again after an answer that is neither y nor n; forwarding stays on', async () => {
    await screen.keys('e');
    await enterThrough(
      /^Node name \[pacs\]:/m,
      /^AE title \[PACS\]:/m,
      /^Host \[127\.0\.0\.1\]:/m,
      /^Port \[9\]:/m,
    );
    await screen.until(/^Forward to it\? y\/n \[y\]:/m);
    await type('maybe');
    await screen.keys('Enter');
    const asked = await screen.until(/^answer y or n$/m);
    assert.match(asked, /^Forward to it\? y\/n \[y\]: *$/m);
    await screen.keys('Enter');
    await screen.until(/^node pacs unchanged/m);
    assert.equal((await savedNode('pacs'))?.forward, true);
  });

  it('asks a refused port again at its prompt, with the saved port as the default', async () => {
    await screen.keys('e');
    await enterThrough(/^Node name \[pacs\]:/m, /^AE title \[PACS\]:/m, /^Host \[127\.0\.0\.1\]:/m);
    await screen.until(/^Port \[9\]:/m);
    await type('99999');
    await screen.keys('Enter');
    const asked = await screen.until(/"nodes\[0\]\.port": must be an integer from 1 to 65535/);
    assert.match(asked, /^Port \[9\]: *$/m);
    await type('11998');
    await screen.keys('Enter');
    await enterThrough(/^Forward to it\? y\/n \[y\]:/m);
    await screen.until(/^node pacs updated \(saved\)/m);
    assert.deepEqual(await savedNode('pacs'), {
      name: 'pacs',
      ae: 'PACS',
      host: '127.0.0.1',
      port: 11998,
      forward: true,
    });
  });

  it('refuses a name with a space at the name prompt; the error is gone at the next prompt; the node is added', async () => {
    await screen.keys('n');
    await screen.until(/^Node name:/m);
    await type('central pacs');
    await screen.keys('Enter');
    const asked = await screen.until(/"nodes\[2\]\.name": must be 1-64 letters/);
    assert.match(asked, /^Node name: *$/m);
    await type('central_pacs');
    await screen.keys('Enter');
    const next = await screen.until(/^AE title:/m);
    assert.doesNotMatch(next, /must be 1-64 letters/);
    assert.match(next, /^Enter: save {2}Esc: cancel/m);
    await type('CENTRAL');
    await screen.keys('Enter');
    await screen.until(/^Host:/m);
    await type('127.0.0.1');
    await screen.keys('Enter');
    await enterThrough(/^Port \[104\]:/m, /^Forward to it\? y\/n \[n\]:/m);
    await screen.until(/^node central_pacs added \(saved\)/m);
    assert.deepEqual(await savedNode('central_pacs'), {
      name: 'central_pacs',
      ae: 'CENTRAL',
      host: '127.0.0.1',
      port: 104,
      forward: false,
    });
  });

  it('saves only the fields changed: `node set viewer forward=true` made while it is open stays', async () => {
    await screen.keys('j', 'e');
    await screen.until(/^Node name \[viewer\]:/m);
    const set = await run(BIN, [
      'node',
      'set',
      'viewer',
      'forward=true',
      '--config',
      box.configFile,
    ]);
    assert.equal(set.code, 0, set.stderr);
    await enterThrough(
      /^Node name \[viewer\]:/m,
      /^AE title \[VIEWER\]:/m,
      /^Host \[127\.0\.0\.1\]:/m,
      /^Port \[10\]:/m,
      /^Forward to it\? y\/n \[n\]:/m,
    );
    await screen.until(/^node viewer (unchanged|updated)/m);
    assert.equal((await savedNode('viewer'))?.forward, true);
    await screen.until(/^[ >]viewer +VIEWER@127\.0\.0\.1:10 +yes /m);
    await screen.keys('k');
  });

  it("`f` and `d` change the configuration the box holds, not the screen's copy: a `node set` made a moment before stays", async () => {
    const set = await run(BIN, ['node', 'set', 'viewer', 'ae=VIEWER2', '--config', box.configFile]);
    assert.equal(set.code, 0, set.stderr);
    await screen.keys('f');
    await screen.until(/^forwarding to pacs off/m);
    assert.equal((await savedNode('pacs'))?.forward, false);
    assert.equal((await savedNode('viewer'))?.ae, 'VIEWER2', 'the change made meanwhile stays');
    const back = await run(BIN, ['node', 'set', 'viewer', 'ae=VIEWER', '--config', box.configFile]);
    assert.equal(back.code, 0, back.stderr);
    await screen.keys('f');
    await screen.until(/^forwarding to pacs on/m);
    assert.equal((await savedNode('viewer'))?.ae, 'VIEWER');
  });
});
