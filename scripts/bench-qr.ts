// `make bench`, query/retrieve, box against Orthanc in the same run on 127.0.0.1:
//  1. C-FIND study-level latency: median of 50 queries (PatientName=A*), each on its own
//     association, with the box and Orthanc each holding the same 1,000 studies of 20
//     small instances (sent to both by storescu).
//  2. C-MOVE of one 400-instance study (512x512x16-bit) to DCMTK storescp.
// Targets: C-FIND median under 50 ms; C-MOVE ratio (Orthanc time / box time) >= 1.0.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, rmSync } from 'node:fs';
import * as path from 'node:path';
import { findScu, moveScu } from '../firmware/services/qr-scu';
import { identifierFrom } from '../firmware/services/qr/keys';
import { freePort, run, startStorescp, tempDir, waitForPort } from '../test/support/peers';
import { startOrthanc, type OrthancPeer } from '../test/support/orthanc';
import { uid, writeSyntheticFile } from '../test/support/synthetic';

const STUDIES = Number(process.env.BENCH_STUDIES ?? 1000);
const PER_STUDY = 20;
const QUERIES = 50;
const MOVE_COUNT = Number(process.env.BENCH_MOVE ?? 400);
const ROOT = path.join(__dirname, '..', '..');
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function storeDir(port: number, aec: string, dir: string): Promise<void> {
  const r = await run('storescu', ['+sd', '-aec', aec, '127.0.0.1', String(port), dir], 3_600_000);
  if (r.code !== 0) throw new Error(`storescu failed: ${r.stderr.slice(-500)}`);
}

async function main(): Promise<void> {
  const work = tempDir('bench-qr');
  const children: ChildProcess[] = [];
  const peers: OrthancPeer[] = [];
  const storescps: Array<{ stop: () => Promise<void> }> = [];
  try {
    process.stdout.write(
      `generating ${STUDIES} studies x ${PER_STUDY} small instances, and a ${MOVE_COUNT}-instance study\n`,
    );
    for (let s = 1; s <= STUDIES; s++) {
      const name = `${LETTERS[(s * 7) % 26]}${LETTERS[(s * 11) % 26]}PATIENT^${s}`;
      for (let i = 1; i <= PER_STUDY; i++) {
        await writeSyntheticFile(path.join(work, 'index', `${s}-${i}.dcm`), {
          studyUid: uid(5000, s),
          seriesUid: uid(5000, s, 1),
          sopInstanceUid: uid(5000, s, 1, i),
          patientName: name,
          patientId: `P${s}`,
          rows: 1,
          columns: 1,
          instanceNumber: i,
        });
      }
    }
    const moveStudy = uid(6000);
    for (let i = 1; i <= MOVE_COUNT; i++) {
      await writeSyntheticFile(path.join(work, 'move', `${i}.dcm`), {
        studyUid: moveStudy,
        seriesUid: uid(6000, 1),
        sopInstanceUid: uid(6000, 1, i),
        rows: 512,
        columns: 512,
        instanceNumber: i,
      });
    }

    const port = await freePort();
    const boxDir = path.join(work, 'box');
    await fs.mkdir(boxDir, { recursive: true });
    const scp = await startStorescp();
    storescps.push(scp);
    const orthanc = await startOrthanc({
      modalities: { storescp: { ae: 'STORESCP', host: '127.0.0.1', port: scp.port } },
    });
    peers.push(orthanc);
    await fs.writeFile(
      path.join(boxDir, 'dicom-edge.json'),
      JSON.stringify({
        port,
        host: '127.0.0.1',
        storageDir: './var',
        nodes: [{ name: 'storescp', ae: 'STORESCP', host: '127.0.0.1', port: scp.port }],
      }),
    );
    const box = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin', 'dicom-edge'),
        'start',
        '--config',
        path.join(boxDir, 'dicom-edge.json'),
      ],
      {
        env: { ...process.env, DICOM_EDGE_LOG: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    children.push(box);
    await waitForPort(port);

    process.stdout.write(
      `loading ${STUDIES * PER_STUDY + MOVE_COUNT} instances into the box and into Orthanc\n`,
    );
    await Promise.all([
      (async () => {
        await storeDir(port, 'DICOM_EDGE', path.join(work, 'index'));
        await storeDir(port, 'DICOM_EDGE', path.join(work, 'move'));
      })(),
      (async () => {
        await storeDir(orthanc.dicomPort, orthanc.ae, path.join(work, 'index'));
        await storeDir(orthanc.dicomPort, orthanc.ae, path.join(work, 'move'));
      })(),
    ]);

    const identifier = identifierFrom(
      [
        'PatientName=A*',
        'StudyInstanceUID',
        'StudyDate',
        'PatientID',
        'NumberOfStudyRelatedInstances',
      ],
      'STUDY',
    );
    const latency = async (
      p: number,
      aec: string,
    ): Promise<{ median: number; matches: number }> => {
      const times: number[] = [];
      let matches = 0;
      for (let q = 0; q < QUERIES; q++) {
        let n = 0;
        const t = process.hrtime.bigint();
        const { status } = await findScu(
          { host: '127.0.0.1', port: p, callingAeTitle: 'BENCH', calledAeTitle: aec },
          'study',
          identifier,
          () => n++,
        );
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (status !== 0) throw new Error(`C-FIND status ${status.toString(16)}`);
        matches = n;
      }
      return { median: median(times), matches };
    };
    const boxFind = await latency(port, 'DICOM_EDGE');
    const orthancFind = await latency(orthanc.dicomPort, orthanc.ae);

    const moveTime = async (p: number, aec: string): Promise<number> => {
      const t = process.hrtime.bigint();
      const r = await moveScu(
        { host: '127.0.0.1', port: p, callingAeTitle: 'BENCH', calledAeTitle: aec },
        'study',
        'STORESCP',
        identifierFrom([`StudyInstanceUID=${moveStudy}`], 'STUDY'),
      );
      if (r.status !== 0 || r.counts.completed !== MOVE_COUNT)
        throw new Error(`C-MOVE: status ${r.status.toString(16)}, ${JSON.stringify(r.counts)}`);
      return Number(process.hrtime.bigint() - t) / 1e9;
    };
    const boxMove = Math.min(
      await moveTime(port, 'DICOM_EDGE'),
      await moveTime(port, 'DICOM_EDGE'),
    );
    const orthancMove = Math.min(
      await moveTime(orthanc.dicomPort, orthanc.ae),
      await moveTime(orthanc.dicomPort, orthanc.ae),
    );

    process.stdout.write(
      `\nC-FIND, study level, PatientName=A*, ${STUDIES} studies x ${PER_STUDY} instances, median of ${QUERIES}:\n`,
    );
    process.stdout.write(
      `  dicom-edge  ${boxFind.median.toFixed(1)} ms  (${boxFind.matches} matches)  target < 50 ms\n`,
    );
    process.stdout.write(
      `  Orthanc     ${orthancFind.median.toFixed(1)} ms  (${orthancFind.matches} matches)\n`,
    );
    process.stdout.write(
      `C-MOVE of a ${MOVE_COUNT}-instance study (512x512x16-bit) to storescp, best of 2:\n`,
    );
    process.stdout.write(
      `  dicom-edge  ${boxMove.toFixed(2)} s\n  Orthanc     ${orthancMove.toFixed(2)} s\n`,
    );
    process.stdout.write(
      `  ratio Orthanc/box: ${(orthancMove / boxMove).toFixed(2)} (target >= 1.0)\n`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    for (const p of peers) await p.stop();
    for (const s of storescps) await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
