// The developer's loop: `make run` compiles only when a source changed, and the peers'
// logging stays out of mocha's report unless a test fails (test/support/peer-logs.ts).
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PEER_LOG_DIR } from '../support/peer-logs';
import { run } from '../support/peers';

const REPO = path.join(__dirname, '..', '..', '..');

describe('make run and the test report', function () {
  this.timeout(60_000);

  it('`make run` starts the built box without compiling, unless a source changed', async () => {
    // `make test` has just built: nothing is out of date.
    const upToDate = await run('make', ['-C', REPO, '-q', 'build']);
    assert.equal(upToDate.code, 0, 'the build is up to date');
    const plan = await run('make', ['-C', REPO, '-s', '-n', 'run']);
    assert.equal(plan.stdout, './bin/dicom-edge start\n');
    // -W: as if this source had just been edited (nothing is touched).
    const edited = await run('make', ['-C', REPO, '-q', '-W', 'firmware/cli/main.ts', 'build']);
    assert.equal(edited.code, 1, 'a changed source makes the build out of date');
    const rebuild = await run('make', [
      '-C',
      REPO,
      '-s',
      '-n',
      '-W',
      'firmware/cli/main.ts',
      'run',
    ]);
    assert.match(rebuild.stdout, /^npx tsc -p tsconfig\.json\n.*\n\.\/bin\/dicom-edge start\n$/s);
  });

  it("`make run` on a fresh clone is quiet: each dependency's install script is decided", async () => {
    // npm 11 skips a dependency's install script that package.json's allowScripts does not
    // decide, and warns of it at every install; `npm install-scripts ls` lists those.
    const r = await run('npm', ['install-scripts', 'ls', '--prefix', REPO]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /not yet covered by allowScripts/);
  });

  it("a peer's log is kept in a file, and shown only under the test that failed", async () => {
    const r = await run(
      process.execPath,
      [
        path.join(REPO, 'node_modules', 'mocha', 'bin', 'mocha.js'),
        '--no-config',
        '--require',
        path.join(__dirname, '..', 'support', 'peer-logs.js'),
        path.join(__dirname, '..', 'support', 'peer-logs-fixture.js'),
      ],
      30_000,
    );
    assert.equal(r.code, 1, 'one test failed');
    assert.doesNotMatch(r.stdout, /PASSING-PEER-LINE/);
    assert.match(
      r.stdout,
      /✔ passes\n.*1\) fails\n\n {6}what the peers and the box said \(.*fails\.log\):\n {8}dcmjs-dimse info: FAILING-PEER-LINE association request\n/s,
    );
    const passed = await fs.readFile(
      path.join(PEER_LOG_DIR, 'a_peer_that_talks_passes.log'),
      'utf8',
    );
    assert.equal(passed, 'dcmjs-dimse info: PASSING-PEER-LINE association request\n');
  });
});
