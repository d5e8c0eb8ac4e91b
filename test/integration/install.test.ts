// scripts/install.sh: checked by ShellCheck, staged into a folder (--destdir) so nothing on
// this machine is touched, its systemd units verified by systemd-analyze against a copy of
// the system's units, and the installed (pruned) build started and echoed.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { validateConfig } from '../../firmware/config/config';
import { echo } from '../../firmware/services/echo-scu';
import { freePort, run, tempDir, waitForPort } from '../support/peers';

const REPO = path.join(__dirname, '..', '..', '..');
const INSTALL = path.join(REPO, 'scripts', 'install.sh');

describe('headless install (scripts/install.sh)', function () {
  this.timeout(180_000);
  let stage: string;

  before(async () => {
    stage = tempDir('install');
    const r = await run(
      INSTALL,
      ['--destdir', stage, '--no-build', '--dashboard', '--port', '104', '--ae', 'CLINIC_BOX'],
      170_000,
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  it('passes ShellCheck, with the scripts that install the test peers and build the image', async () => {
    const scripts = path.join(REPO, 'scripts');
    const image = path.join(scripts, 'image');
    const r = await run('shellcheck', [
      '-x',
      INSTALL,
      ...['install-peers.sh', 'install-image-tools.sh', 'apt-install-missing.sh'].map((f) =>
        path.join(scripts, f),
      ),
      ...['base-root.sh', 'build-image.sh', 'customize-root.sh'].map((f) => path.join(image, f)),
      path.join(image, 'overlay', 'usr', 'libexec', 'dicom-edge-image', 'grow-cache'),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('lays out the build, the configuration, the cache folder, the command and the units', async () => {
    for (const f of [
      'opt/dicom-edge/bin/dicom-edge',
      'opt/dicom-edge/dist/firmware/cli/main.js',
      'opt/dicom-edge/storage/schema/004-baseline.sql',
      'opt/dicom-edge/node_modules/sqlite3',
      'usr/local/bin/dicom-edge',
      'etc/systemd/system/dicom-edge.service',
      'etc/systemd/system/dicom-edge-dashboard.service',
      'usr/local/share/man/man1/dicom-edge.1',
      'etc/bash_completion.d/dicom-edge',
    ]) {
      await fs.access(path.join(stage, f), fsConstants.R_OK);
    }
    await fs.access(path.join(stage, 'opt/dicom-edge/bin/dicom-edge'), fsConstants.X_OK);
    assert.ok((await fs.stat(path.join(stage, 'var/lib/dicom-edge'))).isDirectory());
    // Development tools are pruned from the installed build.
    await assert.rejects(() =>
      fs.access(path.join(stage, 'opt/dicom-edge/node_modules/typescript')),
    );
    const config = validateConfig(
      JSON.parse(await fs.readFile(path.join(stage, 'etc/dicom-edge/dicom-edge.json'), 'utf8')),
    );
    assert.equal(config.ae, 'CLINIC_BOX');
    assert.equal(config.port, 104);
    assert.equal(config.storageDir, '/var/lib/dicom-edge');
    const wrapper = await fs.readFile(path.join(stage, 'usr/local/bin/dicom-edge'), 'utf8');
    assert.match(wrapper, /DICOM_EDGE_CONFIG:=\/etc\/dicom-edge\/dicom-edge\.json/);
    const unit = await fs.readFile(
      path.join(stage, 'etc/systemd/system/dicom-edge.service'),
      'utf8',
    );
    assert.doesNotMatch(unit, /@[A-Z_]+@/);
    for (const line of [
      /^ExecStart=\/opt\/dicom-edge\/bin\/dicom-edge start --config \/etc\/dicom-edge\/dicom-edge\.json$/m,
      /^User=dicom-edge$/m,
      /^Restart=always$/m,
      /^Type=notify$/m,
      /^NotifyAccess=all$/m,
      /^WatchdogSec=30s$/m,
      /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m,
      /^StandardError=journal$/m,
      /^WantedBy=multi-user\.target$/m,
      /^ReadWritePaths=\/var\/lib\/dicom-edge \/etc\/dicom-edge$/m,
    ])
      assert.match(unit, line);
  });

  it('its units pass systemd-analyze verify', async () => {
    // The units are checked as on the target system: this machine's own units stand in
    // for the target's (targets, getty@.service) under the staged root.
    const systemUnits = ['/lib/systemd/system', '/usr/lib/systemd/system'];
    let copied = false;
    for (const dir of systemUnits) {
      try {
        await fs.cp(dir, path.join(stage, 'lib/systemd/system'), { recursive: true });
        copied = true;
        break;
      } catch {
        // try the next place
      }
    }
    assert.ok(copied, 'the system units of this machine');
    for (const unit of ['dicom-edge.service', 'dicom-edge-dashboard.service']) {
      const r = await run('systemd-analyze', ['verify', `--root=${stage}`, unit]);
      assert.equal(r.code, 0, `${unit}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${unit} has warnings: ${r.stderr}`);
    }
  });

  it('installs the man page and the bash completion the installed build made', async () => {
    const page = path.join(stage, 'usr/local/share/man/man1/dicom-edge.1');
    const checked = await run('groff', ['-man', '-Tutf8', '-ww', '-z', page]);
    assert.equal(checked.code, 0);
    assert.equal(checked.stderr, '', 'groff warnings');
    assert.match(await fs.readFile(page, 'utf8'), /^\.SS "dicom\\-edge queue retry"$/m);
    const completion = path.join(stage, 'etc/bash_completion.d/dicom-edge');
    const r = await run('bash', [
      '-c',
      'source "$1"; COMP_WORDS=(dicom-edge cac); COMP_CWORD=1; _dicom_edge; echo "${COMPREPLY[@]}"',
      'complete',
      completion,
    ]);
    assert.equal(r.stdout, 'cache\n');
  });

  it('the installed build runs', async () => {
    const dir = tempDir('installed-run');
    const port = await freePort();
    const config = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(config, JSON.stringify({ host: '127.0.0.1', port, storageDir: 'var' }));
    const child = spawn(
      path.join(stage, 'opt/dicom-edge/bin/dicom-edge'),
      ['start', '--config', config],
      {
        stdio: 'ignore',
      },
    );
    try {
      await waitForPort(port);
      assert.equal(
        await echo({
          host: '127.0.0.1',
          port,
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

  it('refuses bad options with a message', async () => {
    const port = await run(INSTALL, ['--destdir', tempDir('install-bad'), '--port', 'http']);
    assert.equal(port.code, 1);
    assert.match(port.stderr, /--port must be a number from 1 to 65535/);
    const ae = await run(INSTALL, [
      '--destdir',
      tempDir('install-bad'),
      '--ae',
      'A_TITLE_FAR_TOO_LONG',
    ]);
    assert.equal(ae.code, 1);
    assert.match(ae.stderr, /--ae must be 1 to 16 characters/);
    const unknown = await run(INSTALL, ['--frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option --frobnicate/);
  });
});
