// The box under systemd's Type=notify and WatchdogSec= (firmware/systemd/): the real box
// process with NOTIFY_SOCKET pointing at a datagram socket of the test, as systemd sets it,
// and WATCHDOG_USEC at one second so that WATCHDOG=1 is due every half second.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { indexPath } from '../../storage/archive';
import { boxConfig, startBoxProcess, type BoxProcess } from '../support/box-process';
import { NotifySocket, type Notification } from '../support/notify-socket';
import { echoLocal } from '../support/peers';
import { waitFor } from '../support/wait';

const WATCHDOG_MS = 1000;

/** The longest time between two WATCHDOG=1 from `from` to `to`, the ends included. */
function longestSilence(pings: readonly Notification[], from: number, to: number): number {
  const times = [from, ...pings.map((p) => p.at).filter((t) => t > from && t < to), to];
  return Math.max(...times.slice(1).map((t, i) => t - times[i]!));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Another process holding the index's write lock (BEGIN IMMEDIATE) until released. */
async function holdIndexLock(storageDir: string): Promise<() => Promise<void>> {
  const script = [
    'import sqlite3, sys',
    'db = sqlite3.connect(sys.argv[1], isolation_level=None)',
    'db.execute("BEGIN IMMEDIATE")',
    'print("locked", flush=True)',
    'sys.stdin.read()',
    'db.execute("ROLLBACK")',
  ].join('\n');
  const child = spawn('python3', ['-c', script, indexPath(storageDir)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the index locked by another process', async () => out.includes('locked'));
  return async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin.end();
    await exited;
  };
}

describe('systemd: READY=1, the watchdog and STOPPING=1 (firmware/systemd/)', function () {
  this.timeout(90_000);
  let socket: NotifySocket;
  let box: BoxProcess;

  beforeEach(async () => {
    socket = await NotifySocket.open();
    box = await startBoxProcess(await boxConfig(), {
      NOTIFY_SOCKET: socket.path,
      WATCHDOG_USEC: String(WATCHDOG_MS * 1000),
    });
  });

  afterEach(async () => {
    box.child.kill('SIGCONT');
    await box.terminate();
    socket.close();
  });

  it('says READY=1 once it listens, then WATCHDOG=1 every half of WATCHDOG_USEC', async () => {
    const ready = await socket.waitFor('READY=1');
    assert.equal(await echoLocal(box.port), 0);
    await sleep(3000);
    const pings = socket.with('WATCHDOG=1').filter((p) => p.at > ready.at);
    assert.ok(pings.length >= 4, `${pings.length} WATCHDOG=1 in 3 s`);
    // Half the interval, and some slack for a loaded machine: never near the whole.
    assert.ok(longestSilence(pings, pings[0]!.at, pings.at(-1)!.at) < 0.9 * WATCHDOG_MS);
  });

  it('sends no WATCHDOG=1 while its event loop does not run (SIGSTOP), and again after', async () => {
    await socket.waitFor('WATCHDOG=1');
    box.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await sleep(3 * WATCHDOG_MS);
    box.child.kill('SIGCONT');
    const resumed = await socket.waitFor('WATCHDOG=1', Date.now());
    // A ping systemd-notify had in hand at the stop may land just after it.
    const during = socket.with('WATCHDOG=1').filter((p) => p.at > stoppedAt + 200);
    assert.deepEqual(
      during.filter((p) => p.at < resumed.at),
      [],
      'no WATCHDOG=1 while stopped',
    );
    assert.equal(await echoLocal(box.port), 0);
  });

  it('sends no WATCHDOG=1 while its index does not answer, and again once it does', async () => {
    await socket.waitFor('WATCHDOG=1');
    const release = await holdIndexLock(box.storageDir);
    const lockedAt = Date.now();
    let released: number;
    try {
      // Longer than the index's busy timeout (5 s): the probe gives up, the next waits too.
      await box.waitForOutput(/watchdog: the index does not answer/, 15_000);
      await sleep(2000);
    } finally {
      released = Date.now();
      await release();
    }
    // A probe that had the lock just before it was taken may still ping once.
    const stalled = socket
      .with('WATCHDOG=1')
      .filter((p) => p.at > lockedAt + WATCHDOG_MS && p.at < released);
    assert.deepEqual(stalled, [], 'no WATCHDOG=1 while the index is locked');
    await socket.waitFor('WATCHDOG=1', released, 10_000);
    await box.waitForOutput(/watchdog: the index answers again/);
  });

  it('says STOPPING=1 when it stops, and no WATCHDOG=1 after', async () => {
    await socket.waitFor('WATCHDOG=1');
    assert.equal(await box.terminate(), 0);
    const stopping = await socket.waitFor('STOPPING=1', 0, 5000);
    assert.deepEqual(
      socket.with('WATCHDOG=1').filter((p) => p.at > stopping.at),
      [],
    );
  });
});

describe('systemd: nothing is sent when no service manager asked', function () {
  it('starts, listens and stops without NOTIFY_SOCKET', async () => {
    const box = await startBoxProcess(await boxConfig(), { WATCHDOG_USEC: '1000000' });
    try {
      assert.equal(await echoLocal(box.port), 0);
      assert.doesNotMatch(box.output(), /notification/);
    } finally {
      assert.equal(await box.terminate(), 0);
    }
  });
});
