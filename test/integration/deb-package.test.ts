// The Debian packages (scripts/package/): built for amd64 and arm64 by build-deb.sh; the
// amd64 build run here; the arm64 package installed with dpkg into an arm64 Debian trixie
// root (build/arm64-root, made by mmdebstrap from Debian's packages), the box started from
// it under qemu-user and used from this machine with DCMTK (C-ECHO, a study stored and
// found); then upgraded, removed and purged. Nothing about the ARM build is mocked: the
// addons are arm64 binaries run by qemu. Needs root (mmdebstrap, chroot, mounts): CI runs
// as root; without root it fails, saying so, as the tests that mount a file system do.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { echo } from '../../firmware/services/echo-scu';
import { Arm64System, REPO } from '../support/arm64-system';
import { freePort, run, storescu, tempDir, waitForPort } from '../support/peers';
import { requireRoot } from '../support/mounts';
import { uid, writeSyntheticStudy } from '../support/synthetic';

const PACKAGE = path.join(REPO, 'scripts', 'package');
const V1 = '0.1.0~test1';
const V2 = '0.1.0~test2';

/** Runs a command that must succeed; returns its stdout. */
async function ok(cmd: string, args: readonly string[], timeoutMs = 600_000): Promise<string> {
  const r = await run(cmd, args, timeoutMs);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Runs a command in the arm64 system that must succeed; returns what it said. */
async function inside(system: Arm64System, args: readonly string[]): Promise<string> {
  const r = await system.exec(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout + r.stderr;
}

async function buildDeb(arch: string, version: string, out: string): Promise<string> {
  const deb = (
    await ok(path.join(PACKAGE, 'build-deb.sh'), [
      '--arch',
      arch,
      '--version',
      version,
      '--out',
      out,
    ])
  ).trim();
  assert.equal(path.basename(deb), `dicom-edge_${version}_${arch}.deb`);
  return deb;
}

/** findscu's STUDY matches for the study stored by the test. */
async function studiesFound(port: number, studyUid: string): Promise<number> {
  const r = await run('findscu', [
    '-v',
    '-S',
    '-aec',
    'DICOM_EDGE',
    '127.0.0.1',
    String(port),
    '-k',
    'QueryRetrieveLevel=STUDY',
    '-k',
    `StudyInstanceUID=${studyUid}`,
    '-k',
    'NumberOfStudyRelatedInstances',
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return (r.stdout + r.stderr).match(/Find Response: \d+ \(Pending/g)?.length ?? 0;
}

/** The resident set of a process (under qemu-user: the guest's and qemu's together), in MB. */
async function rssMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

/** The installed box, started as the service would start it, as its own user. */
class InstalledBox {
  private output = '';
  private constructor(
    private readonly child: ChildProcess,
    readonly startedAt: number,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async start(system: Arm64System, port: number): Promise<InstalledBox> {
    const child = system.spawn(
      ['/usr/bin/dicom-edge', 'start', '--config', '/etc/dicom-edge/dicom-edge.json'],
      'dicom-edge',
    );
    const box = new InstalledBox(child, Date.now());
    await waitForPort(port, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}\n--- box output ---\n${box.output}`);
    });
    return box;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

describe('the Debian package: amd64 and arm64, installed and run under qemu-user', function () {
  this.timeout(900_000);
  const out = tempDir('deb');
  let debs: { amd64: string; arm64: string; arm64v2: string };
  let system: Arm64System;
  let port: number;
  let studyFiles: string[];
  const studyUid = uid(2801);

  before(async () => {
    // mmdebstrap, chroot and the root's overlay mount: as every test that mounts, it fails
    // rather than skips without root (CI runs as root).
    requireRoot('the arm64 package test');
    const started = Date.now();
    // Side by side on a fresh clone: the root is mostly downloads and emulated dpkg, each
    // sqlite3 compile mostly one compiler on one core. The two arm64 versions share one
    // node_modules, built by the first.
    const [amd64, arm64, root] = await Promise.all([
      buildDeb('amd64', V1, out),
      buildDeb('arm64', V1, out).then(async (v1) => [v1, await buildDeb('arm64', V2, out)]),
      ok(path.join(PACKAGE, 'arm64-root.sh'), [], 900_000),
    ]);
    debs = { amd64, arm64: arm64[0]!, arm64v2: arm64[1]! };
    system = await Arm64System.open(root.trim());
    console.log(
      `      packages and arm64 root ready in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    port = await freePort();
    studyFiles = await writeSyntheticStudy(tempDir('deb-study'), 2801, 3);
  });

  after(async () => {
    await system?.close();
    await fs.rm(out, { recursive: true, force: true });
  });

  it('its scripts and maintainer scripts pass ShellCheck', async () => {
    const scripts = (await fs.readdir(PACKAGE)).filter((f) => f.endsWith('.sh'));
    await ok(
      'shellcheck',
      scripts.map((f) => path.join(PACKAGE, f)),
    );
    const maintainer = ['postinst', 'prerm', 'postrm'].map((f) => path.join(PACKAGE, 'debian', f));
    await ok('shellcheck', ['--shell=sh', ...maintainer]);
  });

  it('holds the build for its architecture, the units, the man page and the conffile', async () => {
    for (const [arch, deb, machine] of [
      ['amd64', debs.amd64, /x86-64/],
      ['arm64', debs.arm64, /ARM aarch64/],
    ] as const) {
      const control = await ok('dpkg-deb', ['-f', deb, 'Architecture', 'Depends', 'Version']);
      assert.match(control, new RegExp(`^Architecture: ${arch}$`, 'm'));
      assert.match(control, /^Depends: nodejs \(>= 20\)/m);
      const listing = await ok('dpkg-deb', ['-c', deb]);
      for (const f of [
        './usr/bin/dicom-edge',
        './usr/lib/dicom-edge/bin/dicom-edge',
        './usr/lib/dicom-edge/dist/firmware/cli/main.js',
        './usr/lib/dicom-edge/storage/schema/004-baseline.sql',
        './usr/lib/dicom-edge/package.json',
        './usr/lib/systemd/system/dicom-edge.service',
        './usr/lib/systemd/system/dicom-edge-dashboard.service',
        './usr/share/man/man1/dicom-edge.1.gz',
        './usr/share/bash-completion/completions/dicom-edge',
        './etc/dicom-edge/dicom-edge.json',
      ])
        assert.ok(listing.includes(` ${f}\n`), `${arch}: ${f}`);
      assert.doesNotMatch(listing, /node_modules\/(typescript|mocha|eslint)\//, 'no dev tools');
      const unpacked = path.join(out, `unpacked-${arch}`);
      await ok('dpkg-deb', ['-x', deb, unpacked]);
      const addon = path.join(
        unpacked,
        'usr/lib/dicom-edge/node_modules/sqlite3/build/Release/node_sqlite3.node',
      );
      assert.match(await ok('file', ['-b', addon]), machine);
      const unit = await fs.readFile(
        path.join(unpacked, 'usr/lib/systemd/system/dicom-edge.service'),
        'utf8',
      );
      assert.match(
        unit,
        /^ExecStart=\/usr\/lib\/dicom-edge\/bin\/dicom-edge start --config \/etc\/dicom-edge\/dicom-edge\.json$/m,
      );
      assert.match(unit, /^Type=notify$/m);
      assert.match(unit, /^WatchdogSec=30s$/m);
    }
    const info = await ok('dpkg-deb', ['-I', debs.arm64, 'conffiles']);
    assert.equal(info.trim(), '/etc/dicom-edge/dicom-edge.json');
  });

  it("the amd64 package's build runs on this machine (C-ECHO)", async () => {
    const unpacked = path.join(out, 'amd64-run');
    await ok('dpkg-deb', ['-x', debs.amd64, unpacked]);
    const dir = path.join(out, 'amd64-var');
    await fs.mkdir(dir);
    const amd64Port = await freePort();
    const config = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(
      config,
      JSON.stringify({ host: '127.0.0.1', port: amd64Port, storageDir: path.join(dir, 'var') }),
    );
    const child = spawn(
      path.join(unpacked, 'usr/lib/dicom-edge/bin/dicom-edge'),
      ['start', '--config', config],
      { stdio: 'ignore' },
    );
    try {
      await waitForPort(amd64Port, 30_000);
      assert.equal(
        await echo({
          host: '127.0.0.1',
          port: amd64Port,
          callingAeTitle: 'TESTER',
          calledAeTitle: 'DICOM_EDGE',
        }),
        0,
      );
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('installs into arm64 Debian with apt: the user, its configuration and cache, the unit enabled', async () => {
    // As docs/package.md says to: apt checks the dependencies (nodejs >= 20 is there).
    await inside(system, ['apt-get', 'install', '-y', await system.copyIn(debs.arm64)]);
    const user = await system.exec(['id', 'dicom-edge']);
    assert.match(user.stdout, /groups=.*dicom-edge.*dialout|groups=.*dialout.*dicom-edge/);
    for (const dir of [
      '/etc/dicom-edge',
      '/var/lib/dicom-edge',
      '/etc/dicom-edge/dicom-edge.json',
    ]) {
      const owner = await system.exec(['stat', '-c', '%U:%G %a', dir]);
      assert.match(owner.stdout, /^dicom-edge:dicom-edge (750|640)$/m, dir);
    }
    // Enabled as on a running system, though systemd does not run in the root.
    // (/lib is /usr/lib on Debian's merged /usr.)
    assert.match(
      await fs.readlink(
        system.file('/etc/systemd/system/multi-user.target.wants/dicom-edge.service'),
      ),
      /^(\/usr)?\/lib\/systemd\/system\/dicom-edge\.service$/,
    );
    const status = await system.exec([
      'dpkg-query',
      '-W',
      '-f',
      '${Status} ${Version}',
      'dicom-edge',
    ]);
    assert.equal(status.stdout, `install ok installed ${V1}`);
  });

  it('the box started from it under qemu-user answers C-ECHO and stores a study that findscu finds', async () => {
    // The installer's change to the configuration (a port of the test's, on loopback):
    // a conffile changed by its administrator, which the upgrade below must keep.
    const config = system.file('/etc/dicom-edge/dicom-edge.json');
    const settings = JSON.parse(await fs.readFile(config, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(
      config,
      JSON.stringify({ ...settings, host: '127.0.0.1', port, ae: 'CLINIC_BOX' }, null, 2),
    );
    const box = await InstalledBox.start(system, port);
    try {
      const listening = (Date.now() - box.startedAt) / 1000;
      assert.equal(
        await echo({
          host: '127.0.0.1',
          port,
          callingAeTitle: 'TESTER',
          calledAeTitle: 'CLINIC_BOX',
        }),
        0,
      );
      await storescu(port, studyFiles);
      assert.equal(await studiesFound(port, studyUid), 1);
      console.log(
        `      arm64 box under qemu-user: listening ${listening.toFixed(1)} s after its start, ` +
          `RSS ${(await rssMb(box.pid)).toFixed(0)} MB (qemu's own memory included)`,
      );
    } finally {
      await box.stop();
    }
  });

  it('an upgrade keeps the configuration and the cache', async () => {
    const before = await fs.readFile(system.file('/etc/dicom-edge/dicom-edge.json'), 'utf8');
    const said = await inside(system, ['dpkg', '-i', await system.copyIn(debs.arm64v2)]);
    assert.doesNotMatch(said, /Configuration file .* modified/);
    const status = await system.exec(['dpkg-query', '-W', '-f', '${Version}', 'dicom-edge']);
    assert.equal(status.stdout, V2);
    assert.equal(await fs.readFile(system.file('/etc/dicom-edge/dicom-edge.json'), 'utf8'), before);
    const box = await InstalledBox.start(system, port);
    try {
      assert.equal(await studiesFound(port, studyUid), 1, 'the study stored before the upgrade');
    } finally {
      await box.stop();
    }
  });

  it('remove keeps the configuration and the cache; purge deletes them', async () => {
    await inside(system, ['dpkg', '--remove', 'dicom-edge']);
    await fs.access(system.file('/etc/dicom-edge/dicom-edge.json'));
    assert.ok((await fs.readdir(system.file('/var/lib/dicom-edge'))).length > 0, 'the cache kept');
    await assert.rejects(fs.access(system.file('/usr/lib/dicom-edge')));
    await inside(system, ['dpkg', '--purge', 'dicom-edge']);
    await assert.rejects(fs.access(system.file('/etc/dicom-edge')));
    await assert.rejects(fs.access(system.file('/var/lib/dicom-edge')));
  });
});
