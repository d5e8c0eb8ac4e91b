// The box's logging settings, as a service manager would set them: a level that is not
// one is said and ignored (errors still come out), debug says more, JSON is one object
// per line.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { boxConfig, BIN, startBoxProcess, type BoxProcess } from '../support/box-process';
import { echoLocal, PEER_ENV } from '../support/peers';
import { waitFor } from '../support/wait';

describe('logging settings', function () {
  this.timeout(60_000);
  let box: BoxProcess | undefined;
  afterEach(async () => {
    await box?.terminate();
    if (box) await fs.rm(path.dirname(box.configFile), { recursive: true, force: true });
    box = undefined;
  });

  it('says that an unknown DICOM_EDGE_LOG is not a level and logs at info', async () => {
    box = await startBoxProcess(await boxConfig(), { DICOM_EDGE_LOG: 'verbose' });
    assert.match(
      box.output(),
      /WARN {2}logging setting ignored reason="DICOM_EDGE_LOG=\\"verbose\\" is not one of debug, info, warn, error; using info"/,
    );
    assert.match(box.output(), /INFO {2}listening/);
  });

  it('at debug, says each request and each presentation context', async () => {
    box = await startBoxProcess(await boxConfig(), { DICOM_EDGE_LOG: 'debug' });
    assert.equal(await echoLocal(box.port), 0);
    await box.waitForOutput(/DEBUG request peer=\S+ command=C-ECHO-RQ messageId=\d+/);
    assert.match(
      box.output(),
      /DEBUG presentation context .* result="accepted 1\.2\.840\.10008\.1\.2/,
    );
  });

  it('in JSON mode writes one JSON object per line', async () => {
    const config = await boxConfig();
    const child = spawn(process.execPath, [BIN, 'start', '--config', config.file], {
      env: { ...PEER_ENV, DICOM_EDGE_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor('the listening line', async () => stderr.includes('"msg":"listening"'));
      assert.equal(await echoLocal(config.port), 0);
      await waitFor('the association lines', async () =>
        stderr.includes('"msg":"association released"'),
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await fs.rm(path.dirname(config.file), { recursive: true, force: true });
    }
    const lines = stderr.trimEnd().split('\n');
    assert.ok(lines.length >= 3);
    for (const line of lines) {
      const o = JSON.parse(line) as Record<string, unknown>;
      assert.equal(typeof o.time, 'string');
      assert.ok(['info', 'warn'].includes(o.level as string), line);
      assert.equal(typeof o.msg, 'string');
    }
  });
});
