// Starting and stopping as systemd and a field engineer meet them: a port already taken
// ends the process with one line and a non-zero code (so Restart=always can act), a
// reindex never runs under a live box, and SIGTERM waits for work under way.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { indexPath } from '../../storage/archive';
import { Index } from '../../storage/index';
import { BIN, boxConfig, startBoxProcess } from '../support/box-process';
import { echoLocal, run, startBox } from '../support/peers';
import { uid } from '../support/synthetic';
import { onLogLine } from '../../firmware/log';
import { requestCommitment } from '../../firmware/services/commitment/commitment-scu';

describe('start and stop', function () {
  this.timeout(60_000);

  it('`start` with the DICOM port taken exits 5 with one line and leaves no control socket', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const config = await boxConfig({ port });
      const r = await run(process.execPath, [BIN, 'start', '--config', config.file], 20_000);
      assert.equal(r.code, 5, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.match(
        lines[lines.length - 1]!,
        new RegExp(
          `^dicom-edge start: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`,
        ),
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      await assert.rejects(fs.access(path.join(config.storageDir, 'control.sock')));
    } finally {
      taken.close();
    }
  });

  it('`reindex` refuses while a box uses the storage directory, and the box goes on', async () => {
    const box = await startBox();
    try {
      const file = path.join(path.dirname(box.config.storageDir), 'dicom-edge.json');
      await fs.writeFile(file, JSON.stringify({ storageDir: box.config.storageDir }));
      const r = await run(process.execPath, [BIN, 'reindex', '--config', file]);
      assert.equal(r.code, 6, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /another dicom-edge is running on this storage directory.*stop it first/,
      );
      assert.equal(await echoLocal(box.port), 0);
    } finally {
      await box.stop();
    }
  });

  it('SIGTERM while the box is still starting: it stops cleanly once started, exit 0', async () => {
    const config = await boxConfig();
    const child = spawn(process.execPath, [BIN, 'start', '--config', config.file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      if (/INFO {2}starting/.test(output) && !child.killed) child.kill('SIGTERM');
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /stopping reason=SIGTERM/);
    await fs.access(path.join(config.storageDir, 'clean-stop'));
  });

  it('SIGTERM while storage commitments are being decided: the stop waits for them, no error, exit 0', async () => {
    const config = await boxConfig({ commit: 'stored' } as never);
    // Many pending commitments, so that the sweep at start-up is still running when the
    // signal comes.
    const index = await Index.open(indexPath(config.storageDir));
    try {
      const deadline = new Date(Date.now() + 86_400_000).toISOString();
      for (let i = 1; i <= 2000; i++) {
        await index.commitments.createCommitment({
          transactionUid: uid(400, i),
          requesterAe: 'MODALITY',
          createdAt: new Date().toISOString(),
          deadline,
          items: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: uid(400, i, 1) }],
        });
      }
    } finally {
      await index.close();
    }
    const box = await startBoxProcess(config);
    const code = await box.terminate();
    assert.equal(code, 0, box.output());
    assert.doesNotMatch(box.output(), /ERROR/);
    assert.match(box.output(), /stopping reason=SIGTERM/);
  });

  it('a commitment whose grace ends after the stop does not sweep a closed index', async () => {
    const box = await startBox({ commit: 'stored', commitGraceSeconds: 1 });
    const lines: string[] = [];
    const stopListening = onLogLine((line) => lines.push(line));
    try {
      // The requester gives up at once; the box keeps the commitment and its grace timer.
      await requestCommitment(
        {
          host: '127.0.0.1',
          port: box.port,
          callingAeTitle: 'MODALITY',
          calledAeTitle: 'DICOM_EDGE',
        },
        [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: uid(401, 1, 1) }],
        100,
      ).catch(() => undefined);
      await box.stop();
      await new Promise((r) => setTimeout(r, 1500)); // past the grace
      assert.deepEqual(
        lines.filter((l) => /sweep failed|SQLITE_MISUSE/.test(l)),
        [],
      );
    } finally {
      stopListening();
    }
  });
});
