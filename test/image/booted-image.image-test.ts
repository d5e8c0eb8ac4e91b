// `make image-test` (not part of `make test`: it boots an emulated arm64 machine for many
// minutes): the SD-card image of `make image`, its kernel, initrd and root file system
// booted in qemu-system-aarch64 (test/support/qemu-guest.ts), and the box in it reached
// from this machine through ports forwarded from 127.0.0.1: C-ECHO, a study stored and
// found, forwarded to a storescp here through a guestfwd rule, the dashboard on tty1, the
// box killed and restarted by systemd, the watchdog, and the installer's network set-up.
import { strict as assert } from 'node:assert';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { echo } from '../../firmware/services/echo-scu';
import {
  datasetBytes,
  freePort,
  listFiles,
  run,
  startStorescp,
  storescu,
  tempDir,
} from '../support/peers';
import { QemuGuest } from '../support/qemu-guest';
import { uid, writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';

const REPO = path.join(__dirname, '..', '..', '..');
const VERSION = (
  JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }
).version;
const IMAGE =
  process.env.DICOM_EDGE_IMAGE ?? path.join(REPO, 'build', `dicom-edge-${VERSION}-arm64.img`);
/** Where the guest reaches the storescp of this machine (a guestfwd rule). */
const PACS = { host: '10.0.2.100', port: 11112 };
/** The address the installer sets on the dashboard, in QEMU's user network. */
const STATIC_ADDRESS = '10.0.2.20';
/** Under TCG on two shared cores a boot takes minutes; bounded all the same. */
const BOOT_TIMEOUT_MS = 20 * 60_000;

function echoAt(port: number): Promise<number> {
  return echo({ host: '127.0.0.1', port, callingAeTitle: 'TESTER', calledAeTitle: 'DICOM_EDGE' });
}

/** findscu at IMAGE level: the SOP Instance UIDs of a study the box has. */
async function instancesFound(port: number, studyUid: string): Promise<string[]> {
  // Each response written to a file (--extract) and read back with dcmdump: findscu's log
  // shows the responses' data sets only at debug level.
  const out = tempDir('findscu');
  try {
    const r = await run(
      'findscu',
      [
        '-S',
        '--extract',
        '-od',
        out,
        '-aec',
        'DICOM_EDGE',
        '127.0.0.1',
        String(port),
        '-k',
        'QueryRetrieveLevel=IMAGE',
        '-k',
        `StudyInstanceUID=${studyUid}`,
        '-k',
        'SeriesInstanceUID',
        '-k',
        'SOPInstanceUID',
      ],
      120_000,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const uids: string[] = [];
    for (const f of await fs.readdir(out)) {
      const dump = await run('dcmdump', ['+P', '0008,0018', path.join(out, f)]);
      const m = /\[([\d.]+)\]/.exec(dump.stdout);
      if (m) uids.push(m[1]!);
    }
    return uids.sort();
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
}

describe('the SD-card image booted in qemu-system-aarch64 (make image-test)', function () {
  this.timeout(BOOT_TIMEOUT_MS);
  let dir: string;
  let guest: QemuGuest | undefined;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  let dicomPort: number;
  let staticPort: number;

  before(async () => {
    await fs.access(IMAGE).catch(() => {
      throw new Error(`no image ${IMAGE}: run make image first`);
    });
    dir = tempDir('image-test');
    pacs = await startStorescp();
    dicomPort = await freePort();
    staticPort = await freePort();
    guest = await QemuGuest.boot({
      image: IMAGE,
      dir,
      diskSize: '4G',
      hostForwards: [
        { hostPort: dicomPort, guest: ':104' },
        { hostPort: staticPort, guest: `${STATIC_ADDRESS}:104` },
      ],
      guestForwards: [{ guest: `${PACS.host}:${PACS.port}`, hostPort: pacs.port }],
    });
  });

  after(async () => {
    if (guest) {
      if (process.env.DICOM_EDGE_IMAGE_TEST_LOG) {
        await fs.writeFile(process.env.DICOM_EDGE_IMAGE_TEST_LOG, await guest.consoleLog());
      }
      await guest.stop();
    }
    await pacs?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    // A failed step shows what the box said about it: its journal in the guest.
    if (this.currentTest?.state !== 'failed' || !guest) return;
    const journal = await guest
      .shell('journalctl -u dicom-edge -n 60 --no-pager -o short-monotonic', 60_000)
      .catch((e: Error) => ({ code: -1, out: e.message }));
    console.log(journal.out.replace(/^/gm, '      journal| '));
  });

  it('answers C-ECHO on port 104 after power-on', async () => {
    const g = guest!;
    await waitFor(
      'the first C-ECHO answered',
      async () => (await echoAt(dicomPort)) === 0,
      BOOT_TIMEOUT_MS,
      2000,
    );
    const seconds = (Date.now() - g.startedAt) / 1000;
    const stat = await fs.stat(IMAGE);
    console.log(
      `      power-on to the first C-ECHO answered: ${seconds.toFixed(0)} s (TCG, cortex-a72); ` +
        `image ${(stat.size / 2 ** 20).toFixed(0)} MiB (${((stat.blocks * 512) / 2 ** 20).toFixed(0)} MiB allocated)`,
    );
    await g.openShell(5 * 60_000);
  });

  it('runs from the card as set: cache partition grown and noatime, journal in RAM, watchdog, clock, no swap, nothing listening but port 104', async () => {
    const g = guest!;
    const options = await g.must('findmnt -n -o OPTIONS /var/lib/dicom-edge');
    assert.match(options, /noatime/);
    // The 4 GiB disk minus the boot and root partitions: far more than the image's 128 MiB.
    const sizeMb = Number(await g.must('df -B1M --output=size /var/lib/dicom-edge | tail -1'));
    assert.ok(sizeMb > 2000, `cache file system ${sizeMb} MiB`);
    assert.match(await g.must('findmnt -n -o OPTIONS /'), /noatime/);
    assert.equal(await g.must('systemctl show -p RuntimeWatchdogUSec --value'), '14s');
    // systemd holds a hardware watchdog open (here QEMU's i6300esb; the Pi's bcm2835-wdt).
    assert.equal(await g.must('cat /sys/class/watchdog/watchdog0/state'), 'active');
    assert.match(await g.must('journalctl --header | grep -m1 "File path"'), /\/run\/log\/journal/);
    assert.equal(await g.must('swapon --noheadings | wc -l'), '0');
    assert.equal(
      await g.must(
        'systemctl is-active systemd-timesyncd systemd-networkd dicom-edge dicom-edge-dashboard | sort -u',
      ),
      'active',
    );
    assert.equal(await g.must('systemctl is-enabled fstrim.timer'), 'enabled');
    // Nothing listens on the clinic's network but the box: TCP on port 104 alone; UDP only
    // the clients' own sockets (DHCP's port 68, timesyncd's ephemeral port), no responder.
    // Both protocols in one listing, so that ss prints its Netid column: "tcp 0.0.0.0:104".
    const sockets = (await g.must(`ss -H -n -ltu | awk '{print $1, $5}'`))
      .split('\n')
      .map((l) => l.split(' ') as [string, string])
      .filter(([, a]) => a && !/^(127\.|\[::1\]|\[::ffff:127\.)|%lo:/.test(a));
    const port = (a: string): number => Number(a.slice(a.lastIndexOf(':') + 1));
    const tcp = sockets.filter(([p]) => p === 'tcp').map(([, a]) => a);
    assert.ok(
      tcp.length > 0 && tcp.every((a) => port(a) === 104),
      `TCP listening: ${tcp.join(' ')}`,
    );
    const udp = sockets
      .filter(([p, a]) => p === 'udp' && port(a) !== 68 && port(a) < 32768)
      .map(([, a]) => a);
    assert.deepEqual(udp, [], `UDP sockets: ${udp.join(' ')}`);
    console.log(
      `      cache partition ${sizeMb} MiB after the first boot (image: 128 MiB); ` +
        `off loopback: ${sockets.map((s) => s.join(' ')).join(', ')}`,
    );
  });

  it("shows the dashboard on tty1 with the box's name, port and address", async () => {
    const g = guest!;
    const screen = await waitFor(
      'the dashboard on tty1',
      async () => {
        const s = await g.screen();
        return /DICOM_EDGE on port 104/.test(s) && s;
      },
      120_000,
      2000,
    );
    assert.match(screen, /10\.0\.2\.15/);
    assert.match(screen, /s:setup/);
    console.log(
      screen
        .split('\n')
        .map((l) => `      | ${l.trimEnd()}`)
        .join('\n'),
    );
  });

  it('stores a study that findscu finds and forwards it byte-identical to a storescp here (guestfwd)', async () => {
    const g = guest!;
    const added = await g.serialCommand(`node add pacs STORESCP ${PACS.host} ${PACS.port} forward`);
    assert.doesNotMatch(added, /error|usage|unknown/i, added);
    const files = await writeSyntheticStudy(dir, 1, 3);
    await storescu(dicomPort, files);
    const expected = [1, 2, 3].map((i) => uid(1, 1, i)).sort();
    assert.deepEqual(await instancesFound(dicomPort, uid(1)), expected);
    const received = await waitFor(
      '3 instances at the storescp',
      async () => {
        const got = await listFiles(pacs.dir);
        return got.length >= 3 && got;
      },
      300_000,
      2000,
    );
    const sent = await Promise.all(files.map(datasetBytes));
    const got = await Promise.all(received.map(datasetBytes));
    for (const s of sent)
      assert.ok(
        got.some((r) => r.equals(s)),
        'a forwarded data set differs',
      );
  });

  it('is started again by systemd after SIGKILL, with nothing it acknowledged lost', async () => {
    const g = guest!;
    const before = await g.must('systemctl show -p MainPID --value dicom-edge');
    const files = await writeSyntheticStudy(dir, 2, 5);
    await storescu(dicomPort, files);
    // Acknowledged: storescu had every C-STORE-RSP. Now the box dies at once.
    await g.must('systemctl kill -s SIGKILL dicom-edge');
    const after = await waitFor(
      'dicom-edge running again',
      async () => {
        const pid = await g.must('systemctl show -p MainPID --value dicom-edge');
        return pid !== '0' && pid !== before && (await echoAt(dicomPort)) === 0 && pid;
      },
      300_000,
      2000,
    );
    assert.notEqual(after, before);
    assert.deepEqual(
      await instancesFound(dicomPort, uid(2)),
      [1, 2, 3, 4, 5].map((i) => uid(2, 1, i)).sort(),
    );
    assert.equal((await instancesFound(dicomPort, uid(1))).length, 3);
    const rssKb = Number(await g.must(`ps -o rss= -p ${after}`));
    console.log(
      `      restarted by systemd (${await g.must('systemctl show -p NRestarts --value dicom-edge')} restart); ` +
        `box RSS in the guest ${(rssKb / 1024).toFixed(0)} MB`,
    );
  });

  it('is killed and started again by systemd within WatchdogSec when it stops answering (SIGSTOP)', async () => {
    const g = guest!;
    const watchdog = await g.must('systemctl show -p WatchdogUSec --value dicom-edge');
    const watchdogS = Number(/^(\d+)s$/.exec(watchdog)?.[1]);
    assert.ok(watchdogS > 0, `WatchdogUSec ${watchdog}`);
    const before = await g.must('systemctl show -p MainPID --value dicom-edge');
    const stoppedAt = Date.now();
    await g.must(`kill -STOP ${before}`);
    const killedAfter = await waitFor(
      'the stopped box replaced',
      async () => {
        const pid = await g.must('systemctl show -p MainPID --value dicom-edge');
        return pid !== before && (Date.now() - stoppedAt) / 1000;
      },
      300_000,
      1000,
    );
    assert.ok(
      (await g.must('journalctl -u dicom-edge --no-pager | grep -c "Watchdog timeout" || true')) !==
        '0',
      'systemd logged no watchdog timeout',
    );
    // Within the watchdog time and the restart delay; the emulated guest adds its slowness.
    assert.ok(
      killedAfter <= watchdogS + 5 + 30,
      `replaced ${killedAfter.toFixed(0)} s after SIGSTOP`,
    );
    await waitFor(
      'C-ECHO after the watchdog restart',
      async () => (await echoAt(dicomPort)) === 0,
      300_000,
      2000,
    );
    console.log(
      `      SIGSTOP -> replaced by systemd after ${killedAfter.toFixed(0)} s (WatchdogSec=${watchdogS})`,
    );
  });

  it('takes a static address, host name and time zone typed on tty1, live and after a reboot', async () => {
    const g = guest!;
    const answer = async (question: RegExp, text: string): Promise<void> => {
      await waitFor(
        `the question ${question}`,
        async () => question.test(await g.screen()),
        60_000,
        1000,
      );
      await g.type(`${text}\n`);
    };
    await g.type('s');
    await answer(/Ethernet: dhcp or static/, 'static');
    await answer(/Address\/prefix/, `${STATIC_ADDRESS}/24`);
    await answer(/Gateway/, '10.0.2.2');
    await answer(/DNS servers/, '10.0.2.3');
    await answer(/Host name/, 'clinic-pi');
    await answer(/Time zone/, 'Europe/Paris');
    const screen = await waitFor(
      'the set-up applied',
      async () => {
        const s = await g.screen();
        return /set: Ethernet static/.test(s) && s;
      },
      120_000,
      2000,
    );
    assert.match(screen, new RegExp(`static ${STATIC_ADDRESS.replace(/\./g, '\\.')}/24`));
    await waitFor(
      'C-ECHO at the new address',
      async () => (await echoAt(staticPort)) === 0,
      120_000,
      2000,
    );
    assert.equal(await g.must('hostname'), 'clinic-pi');
    assert.match(await g.must('readlink /etc/localtime'), /Europe\/Paris$/);
    // Kept across a reboot: the files the helper wrote, read again by a fresh boot.
    await g.shell('systemctl reboot', 10_000).catch(() => undefined);
    const rebootedAt = Date.now();
    await new Promise((r) => setTimeout(r, 20_000));
    await waitFor(
      'C-ECHO at the new address after the reboot',
      async () => (await echoAt(staticPort)) === 0,
      BOOT_TIMEOUT_MS,
      3000,
    );
    await g.openShell(5 * 60_000);
    assert.equal(await g.must('hostname'), 'clinic-pi');
    assert.match(
      await g.must('ip -4 -o addr show eth0'),
      new RegExp(`inet ${STATIC_ADDRESS.replace(/\./g, '\\.')}/24`),
    );
    console.log(
      `      after the reboot the box answered at ${STATIC_ADDRESS} in ${((Date.now() - rebootedAt) / 1000).toFixed(0)} s`,
    );
  });
});
