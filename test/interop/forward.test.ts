// Store-and-forward with real peers on 127.0.0.1: Orthanc (Debian's package) as the
// upstream PACS and DCMTK storescp as a second destination. The sender is DCMTK storescu.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Config, DimseNodeConfig } from '../../firmware/config/config';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { controlRequest } from '../../firmware/control/control-client';
import {
  datasetBytes,
  drained,
  freePort,
  listFiles,
  run,
  startBox,
  startStorescp,
  tempDir,
  waitForPort,
  type TestBox,
  storescu,
} from '../support/peers';
import { startOrthanc, type OrthancPeer } from '../support/orthanc';
import {
  CT_IMAGE_STORAGE,
  MR_IMAGE_STORAGE,
  uid,
  writeSyntheticFile,
  writeSyntheticStudy,
} from '../support/synthetic';
import { waitFor } from '../support/wait';
import { onLogLine } from '../../firmware/log';
import { Index } from '../../storage/index';
import { indexPath } from '../../storage/archive';

const FAST_RETRY = {
  retryInitialSeconds: 0.3,
  retryMaxSeconds: 1,
  instancesPerAssociation: 1000,
  idleSeconds: 2,
};

async function study(
  dir: string,
  n: number,
  count: number,
  o: { modality?: string; sopClassUid?: string; size?: number } = {},
): Promise<string[]> {
  return writeSyntheticStudy(dir, n, count, {
    modality: o.modality ?? 'CT',
    sopClassUid: o.sopClassUid ?? CT_IMAGE_STORAGE,
    rows: o.size ?? 64,
    columns: o.size ?? 64,
  });
}

function sopOf(file: Buffer): string {
  return parsePart10Header(file).meta.mediaStorageSopInstanceUid;
}

function node(
  name: string,
  ae: string,
  port: number,
  extra: Partial<DimseNodeConfig> = {},
): DimseNodeConfig {
  return { name, ae, host: '127.0.0.1', port, forward: true, ...extra };
}

describe('store-and-forward', function () {
  this.timeout(180_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  async function box(overrides: Partial<Config>): Promise<TestBox> {
    const b = await startBox({ forwarding: FAST_RETRY, ...overrides });
    cleanups.push(() => b.stop());
    return b;
  }
  async function orthanc(o: Parameters<typeof startOrthanc>[0] = {}): Promise<OrthancPeer> {
    const p = await startOrthanc(o);
    cleanups.push(() => p.stop());
    return p;
  }

  it('a study sent by storescu arrives at Orthanc and at storescp, each data set byte-identical', async () => {
    const pacs = await orthanc();
    const scp = await startStorescp(['+xa']);
    cleanups.push(() => scp.stop());
    const b = await box({
      nodes: [node('pacs', pacs.ae, pacs.dicomPort), node('archive', 'STORESCP', scp.port)],
    });
    const files = await study(tempDir('fwd'), 70, 12);
    await storescu(b.port, files);
    await Promise.all([drained(b, 'pacs'), drained(b, 'archive')]);
    for (const f of files) {
      const original = await datasetBytes(f);
      const sop = sopOf(await fs.readFile(f));
      const inOrthanc = await pacs.fileOf(sop);
      assert.ok(inOrthanc, `${sop} missing in Orthanc`);
      assert.deepEqual(inOrthanc.subarray(parsePart10Header(inOrthanc).datasetOffset), original);
    }
    const received = await listFiles(scp.dir);
    assert.equal(received.length, files.length);
    const originals = new Set(
      await Promise.all(files.map(async (f) => (await datasetBytes(f)).toString('hex'))),
    );
    for (const r of received) assert.ok(originals.has((await datasetBytes(r)).toString('hex')));
    const report = await b.forwarder.report();
    assert.deepEqual(
      report.map((r) => [r.name, r.done, r.failed, r.queued]),
      [
        ['pacs', 12, 0, 0],
        ['archive', 12, 0, 0],
      ],
    );
  });

  it('upstream down when the study arrives, up later: everything arrives, each instance sent once', async () => {
    const dicomPort = await freePort();
    const httpPort = await freePort();
    const b = await box({ nodes: [node('pacs', 'ORTHANC', dicomPort)] });
    const files = await study(tempDir('down'), 71, 10);
    await storescu(b.port, files);
    const waiting = await waitFor('backoff with an error', async () => {
      const r = (await b.forwarder.report())[0]!;
      return r.lastError && r.queued === 10 ? r : undefined;
    });
    assert.match(waiting.lastError!, /ECONNREFUSED/);
    assert.ok(waiting.oldestWaitingSeconds !== null);
    await new Promise((r) => setTimeout(r, 2000)); // a few more failed retries
    const pacs = await orthanc({ dicomPort, httpPort });
    await drained(b, 'pacs');
    assert.equal(await pacs.instanceCount(), 10);
    for (let i = 1; i <= 10; i++) {
      const jobs = await b.archive.queue.jobsOf(uid(71, 1, i));
      assert.deepEqual(
        jobs.map((j) => [j.destination, j.state, j.attempts]),
        [['pacs', 'done', 1]],
      );
    }
  });

  it('an identical re-send is not forwarded again; a changed one is', async () => {
    const scp = await startStorescp(['+xa']);
    cleanups.push(() => scp.stop());
    const b = await box({ nodes: [node('archive', 'STORESCP', scp.port)] });
    const dir = tempDir('dedupe');
    const files = await study(dir, 72, 3);
    await storescu(b.port, files);
    await drained(b, 'archive');
    await storescu(b.port, files);
    await new Promise((r) => setTimeout(r, 500));
    await drained(b, 'archive');
    assert.equal((await b.forwarder.report())[0]!.sentSinceStart, 3);
    // The same SOP Instance UID with other content is a new version: forwarded again.
    await writeSyntheticFile(files[0]!, {
      studyUid: uid(72),
      seriesUid: uid(72, 1),
      sopInstanceUid: uid(72, 1, 1),
      patientName: 'CORRECTED^NAME',
    });
    await storescu(b.port, [files[0]!]);
    await waitFor('re-forward', async () => (await b.forwarder.report())[0]!.sentSinceStart === 4);
  });

  it('a changed copy that replaces a queued instance while its batch is being sent goes out next, not failed', async () => {
    const scp = await startStorescp(['+xa']);
    cleanups.push(() => scp.stop());
    // Queued while the destination is unreachable, so that one batch holds both; then at
    // 100 kB/s the first instance (512 kB) keeps the worker busy for seconds.
    const archive = node('archive', 'STORESCP', await freePort(), { maxBytesPerSecond: 100_000 });
    const b = await box({ nodes: [archive] });
    const dir = tempDir('replaced');
    const [big] = await study(dir, 79, 1, { size: 512 });
    const small = path.join(dir, 'small.dcm');
    const o = { studyUid: uid(79), seriesUid: uid(79, 1), sopInstanceUid: uid(79, 1, 2) };
    await writeSyntheticFile(small, o);
    await storescu(b.port, [big!, small]);
    await b.liveConfig.change({ nodes: [{ ...archive, port: scp.port }] });
    await waitFor('the big one in flight', async () => (await b.forwarder.report())[0]!.inFlight);
    await writeSyntheticFile(small, { ...o, patientName: 'CORRECTED^NAME' });
    await storescu(b.port, [small]);
    await drained(b, 'archive');
    const [row] = await b.archive.queue.jobsOf(uid(79, 1, 2));
    assert.equal(row?.state, 'done', row?.lastError ?? '');
    const received = await listFiles(scp.dir);
    const names = await Promise.all(
      received.map(async (f) => (await fs.readFile(f)).includes('CORRECTED^NAME')),
    );
    assert.ok(names.includes(true), 'the corrected copy arrived');
  });

  it('a changed copy that arrives after the first was delivered, before that delivery is marked in the index, goes out too', async () => {
    const scp = await startStorescp(['+xa']);
    cleanups.push(() => scp.stop());
    const b = await box({ nodes: [node('archive', 'STORESCP', scp.port, { associations: 1 })] });
    const file = path.join(tempDir('replaced-after'), 'one.dcm');
    const o = { studyUid: uid(80), seriesUid: uid(80, 1), sopInstanceUid: uid(80, 1, 1) };
    await writeSyntheticFile(file, o);
    await storescu(b.port, [file]);
    // Delivered: storescp has it. The box marks deliveries in the index up to a second
    // later, several in one commit; the corrected copy comes within that second.
    await waitFor(
      'the first copy at storescp',
      async () => (await listFiles(scp.dir)).length === 1,
      10_000,
      10,
    );
    await writeSyntheticFile(file, { ...o, patientName: 'CORRECTED^NAME' });
    await storescu(b.port, [file]);
    await waitFor(
      'the corrected copy at storescp',
      async () => {
        const [f] = await listFiles(scp.dir);
        return f !== undefined && (await fs.readFile(f)).includes('CORRECTED^NAME');
      },
      15_000,
    );
    await drained(b, 'archive');
    const [row] = await b.archive.queue.jobsOf(uid(80, 1, 1));
    assert.equal(row?.state, 'done', row?.lastError ?? '');
  });

  it('an upstream that refuses a SOP class: those jobs fail with the reason, the rest flow; retry requeues them', async () => {
    const profile = path.join(tempDir('profile'), 'ct-only.cfg');
    await fs.writeFile(
      profile,
      [
        '[[TransferSyntaxes]]',
        '[Uncompressed]',
        'TransferSyntax1 = LocalEndianExplicit',
        'TransferSyntax2 = LittleEndianImplicit',
        '[[PresentationContexts]]',
        '[CTOnly]',
        'PresentationContext1 = CTImageStorage\\Uncompressed',
        '[[Profiles]]',
        '[CTProfile]',
        'PresentationContexts = CTOnly',
        '',
      ].join('\n'),
    );
    const scp = await startStorescp(['-xf', profile, 'CTProfile']);
    cleanups.push(() => scp.stop());
    const b = await box({ nodes: [node('ctonly', 'STORESCP', scp.port)] });
    const dir = tempDir('refuse');
    const ct = await study(dir, 73, 4);
    const mr = await study(dir, 74, 3, { modality: 'MR', sopClassUid: MR_IMAGE_STORAGE });
    await storescu(b.port, [...mr, ...ct]);
    await drained(b, 'ctonly');
    const r = (await b.forwarder.report())[0]!;
    assert.deepEqual([r.done, r.failed], [4, 3]);
    const job = (await b.archive.queue.jobsOf(uid(74, 1, 1)))[0]!;
    assert.equal(job.state, 'failed');
    assert.match(
      job.lastError ?? '',
      /does not accept SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.4/,
    );
    assert.equal((await listFiles(scp.dir)).length, 4);
    // `dicom-edge queue retry --dest` (through the control socket) puts them back; they fail again, nothing is lost.
    const cfg = path.join(b.config.storageDir, 'cfg.json');
    await fs.writeFile(cfg, JSON.stringify({ storageDir: b.config.storageDir }));
    const retried = await run(path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge'), [
      'queue',
      'retry',
      '--dest',
      'ctonly',
      '--config',
      cfg,
    ]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /^3 failed job\(s\) requeued:\n {2}ctonly: /m);
    await waitFor('refused again', async () => (await b.forwarder.report())[0]!.failed === 3);
  });

  it('transcodes for a destination that only takes Implicit VR LE, and says so; the result matches dcmconv', async () => {
    const profile = path.join(tempDir('profile'), 'implicit-only.cfg');
    await fs.writeFile(
      profile,
      [
        '[[TransferSyntaxes]]',
        '[ImplicitOnly]',
        'TransferSyntax1 = LittleEndianImplicit',
        '[[PresentationContexts]]',
        '[CT]',
        'PresentationContext1 = CTImageStorage\\ImplicitOnly',
        '[[Profiles]]',
        '[ImplicitProfile]',
        'PresentationContexts = CT',
        '',
      ].join('\n'),
    );
    const scp = await startStorescp(['-xf', profile, 'ImplicitProfile']);
    cleanups.push(() => scp.stop());
    const b = await box({ nodes: [node('legacy', 'STORESCP', scp.port)] });
    const dir = tempDir('transcode-fwd');
    const [file] = await study(dir, 78, 1);
    const lines: string[] = [];
    const stopListening = onLogLine((line) => lines.push(line));
    cleanups.push(async () => stopListening());
    await storescu(b.port, [file!]);
    await drained(b, 'legacy');
    assert.ok(
      lines.some((l) =>
        /transcoding for destination dest=legacy .* from=1\.2\.840\.10008\.1\.2\.1 to=1\.2\.840\.10008\.1\.2$/.test(
          l,
        ),
      ),
      lines.join('\n'),
    );
    assert.equal((await b.forwarder.report())[0]!.done, 1);
    const [received] = await listFiles(scp.dir);
    const receivedBytes = await fs.readFile(received!);
    assert.equal(parsePart10Header(receivedBytes).meta.transferSyntaxUid, '1.2.840.10008.1.2');
    const reference = path.join(dir, 'reference.dcm');
    assert.equal((await run('dcmconv', ['-e', '-g', '+ti', file!, reference])).code, 0);
    assert.deepEqual(await datasetBytes(received!), await datasetBytes(reference));
  });

  it('an encapsulated instance the destination refuses, and the box cannot decode, fails with a clear reason', async () => {
    const scp = await startStorescp(); // uncompressed syntaxes only
    cleanups.push(() => scp.stop());
    const b = await box({ nodes: [node('plain', 'STORESCP', scp.port)] });
    const dir = tempDir('jpeg');
    const [base] = await study(dir, 79, 1);
    const jpeg = path.join(dir, 'jpeg.dcm');
    assert.equal((await run('dcmcjpeg', [base!, jpeg])).code, 0);
    await storescu(b.port, [jpeg], ['-xs']); // propose JPEG Lossless, so it is stored as such
    await drained(b, 'plain');
    const [job] = await b.archive.queue.jobsOf(uid(79, 1, 1));
    assert.equal(job?.state, 'failed');
    assert.match(
      job?.lastError ?? '',
      /does not accept SOP class .* in 1\.2\.840\.10008\.1\.2\.4\.70/,
    );
  });

  it('with requestCommit, asks Orthanc to commit what it received and records its report per instance', async () => {
    const orthancPort = await freePort();
    const b = await box({ nodes: [node('pacs', 'ORTHANC', orthancPort, { requestCommit: true })] });
    const pacs = await orthanc({
      dicomPort: orthancPort,
      modalities: { box: { ae: 'DICOM_EDGE', host: '127.0.0.1', port: b.port } },
    });
    await storescu(b.port, await study(tempDir('commit-upstream'), 81, 3));
    await drained(b, 'pacs');
    for (let i = 1; i <= 3; i++) {
      await waitFor(
        `commitment of instance ${i}`,
        async () => (await b.archive.queue.jobsOf(uid(81, 1, i)))[0]?.commitState === 'committed',
      );
    }
    assert.equal(await pacs.instanceCount(), 3);
  });

  it('stopping the box does not wait on a destination that has stopped answering; the job stays queued', async () => {
    const stalled = await startStorescp(['+xa', '--sleep-during', '30']);
    cleanups.push(() => stalled.stop());
    const b = await startBox({
      forwarding: FAST_RETRY,
      nodes: [node('stalled', 'STORESCP', stalled.port)],
    });
    await storescu(b.port, await study(tempDir('stall'), 82, 1));
    await waitFor(
      'the send in flight',
      async () => (await b.forwarder.report())[0]!.inFlight !== null,
    );
    const started = Date.now();
    await b.stop();
    assert.ok(Date.now() - started < 15_000, 'shutdown was not held for the 30 s stall');
    const index = await Index.open(indexPath(b.config.storageDir));
    try {
      assert.deepEqual(
        (await index.queue.forwardSummary()).map((s) => [s.destination, s.queued]),
        [['stalled', 1]],
      );
    } finally {
      await index.close();
    }
  });

  it('routing filters send a CT to one node and an MR to another', async () => {
    const ctScp = await startStorescp(['+xa']);
    const mrScp = await startStorescp(['+xa']);
    cleanups.push(
      () => ctScp.stop(),
      () => mrScp.stop(),
    );
    const b = await box({
      nodes: [
        node('ct-reading', 'STORESCP', ctScp.port, { forwardWhen: { modality: ['CT'] } }),
        node('mr-reading', 'STORESCP', mrScp.port, {
          forwardWhen: { sopClassUid: ['1.2.840.10008.5.1.4.1.1.4*'], callingAe: ['STORE*'] },
        }),
      ],
    });
    const dir = tempDir('route');
    await storescu(b.port, [
      ...(await study(dir, 75, 2)),
      ...(await study(dir, 76, 3, { modality: 'MR', sopClassUid: MR_IMAGE_STORAGE })),
    ]);
    await Promise.all([drained(b, 'ct-reading'), drained(b, 'mr-reading')]);
    assert.equal((await listFiles(ctScp.dir)).length, 2);
    assert.equal((await listFiles(mrScp.dir)).length, 3);
    assert.ok((await listFiles(ctScp.dir)).every((f) => path.basename(f).startsWith('CT')));
    assert.ok((await listFiles(mrScp.dir)).every((f) => path.basename(f).startsWith('MR')));
  });

  it('the control socket is owner-only, checks a node by C-ECHO, and `dicom-edge queue` prints the state', async () => {
    const scp = await startStorescp();
    cleanups.push(() => scp.stop());
    const b = await box({
      nodes: [
        node('nowhere', 'NOBODY', await freePort()),
        { ...node('scp', 'STORESCP', scp.port), forward: false },
      ],
    });
    assert.deepEqual(await controlRequest(b.config.storageDir, { command: 'echo', node: 'scp' }), {
      status: 0,
      backoffEnded: false, // not a forward destination: nothing backs off
    });
    await assert.rejects(
      () => controlRequest(b.config.storageDir, { command: 'echo', node: 'nowhere' }),
      /ECONNREFUSED/,
    );
    await assert.rejects(
      () => controlRequest(b.config.storageDir, { command: 'echo', node: 'unknown' }),
      /no node named/,
    );
    await assert.rejects(
      () => controlRequest(b.config.storageDir, { command: 'bogus' } as never),
      /unknown command "bogus"/,
    );
    const st = await fs.stat(path.join(b.config.storageDir, 'control.sock'));
    assert.equal(st.mode & 0o777, 0o600);
    const cfg = path.join(b.config.storageDir, 'cfg.json');
    await fs.writeFile(cfg, JSON.stringify({ storageDir: b.config.storageDir }));
    const bin = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');
    const out = await run(bin, ['queue', '--config', cfg]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^DEST +AE@ADDRESS +STATE +QUEUED +IN FLIGHT +SENT +FAILED +OLDEST/m);
    assert.match(out.stdout, /^nowhere +NOBODY@127\.0\.0\.1:\d+/m);
  });

  it('upstream killed mid-association and the box killed with SIGKILL mid-forwarding: every acknowledged instance ends up upstream', async () => {
    const pacs = await orthanc();
    const work = tempDir('crash');
    const port = await freePort();
    const configFile = path.join(work, 'dicom-edge.json');
    // A bandwidth cap makes forwarding slow enough to be interrupted on purpose.
    await fs.writeFile(
      configFile,
      JSON.stringify({
        port,
        host: '127.0.0.1',
        storageDir: './var',
        forwarding: FAST_RETRY,
        nodes: [node('pacs', pacs.ae, pacs.dicomPort, { maxBytesPerSecond: 1_500_000 })],
      }),
    );
    const bin = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');
    let boxProcess: ChildProcess | undefined;
    const launch = async (): Promise<void> => {
      boxProcess = spawn(process.execPath, [bin, 'start', '--config', configFile], {
        stdio: 'ignore',
        env: { ...process.env, DICOM_EDGE_LOG: 'warn' },
      });
      await waitForPort(port);
    };
    cleanups.push(async () => {
      boxProcess?.kill('SIGKILL');
    });
    await launch();
    const files = await study(work, 77, 40, { size: 256 }); // 128 KB each: about 3.5 s at the cap
    await storescu(port, files);
    await waitFor('some forwarded', async () => (await pacs.instanceCount()) >= 5, 30_000, 20);
    pacs.kill(); // upstream dies in the middle of the association
    await pacs.restart();
    await waitFor('forwarding resumed', async () => (await pacs.instanceCount()) >= 15, 30_000, 20);
    boxProcess!.kill('SIGKILL'); // the box dies in the middle of forwarding
    await new Promise((r) => boxProcess!.once('exit', r));
    assert.ok((await pacs.instanceCount()) < 40, 'the kill landed before the end');
    await launch();
    await waitFor('all 40 upstream', async () => (await pacs.instanceCount()) === 40, 60_000, 200);
    for (const f of files) {
      const inOrthanc = await pacs.fileOf(sopOf(await fs.readFile(f)));
      assert.ok(inOrthanc);
      assert.deepEqual(
        inOrthanc.subarray(parsePart10Header(inOrthanc).datasetOffset),
        await datasetBytes(f),
      );
    }
    boxProcess!.kill('SIGTERM');
    await new Promise((r) => boxProcess!.once('exit', r));
    const index = await Index.open(indexPath(path.join(work, 'var')));
    try {
      const summary = await index.queue.forwardSummary();
      assert.deepEqual(
        summary.map((s) => [s.destination, s.done, s.queued, s.failed]),
        [['pacs', 40, 0, 0]],
      );
    } finally {
      await index.close();
    }
  });
});
