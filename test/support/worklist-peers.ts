// The worklist's real peers: DCMTK's wlmscpfs as the RIS (its worklist folder made by the
// test, each item a .wl file written by dump2dcm from a dump text), and findscu -W as the
// modality, its answers extracted to files (-X) so that the test reads the very bytes sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseDataset } from '../../firmware/dicom/dataset/dataset-parser';
import type { Element } from '../../firmware/dicom/dataset/dataset-writer';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { logOutput } from './peer-logs';
import { freePort, PEER_ENV, run, tempDir, waitForPort } from './peers';

export const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

/** A worklist item as the tests write it (one Scheduled Procedure Step). */
export interface WorklistEntry {
  readonly accession: string;
  readonly patientName?: string | Buffer;
  readonly patientId?: string;
  readonly birthDate?: string;
  readonly sex?: string;
  readonly charset?: string;
  readonly studyUid?: string;
  readonly procedureId?: string;
  readonly description?: string;
  readonly station?: string;
  readonly modality?: string;
  /** "YYYYMMDD". */
  readonly date: string;
  readonly time?: string;
  readonly spsId?: string;
  readonly performer?: string;
}

/** The dump text dump2dcm reads (values in brackets are written as their bytes). */
export function worklistDump(e: WorklistEntry): Buffer {
  const line = (tag: string, vr: string, value: string | Buffer): Buffer =>
    Buffer.concat([
      Buffer.from(`(${tag}) ${vr} [`, 'latin1'),
      typeof value === 'string' ? Buffer.from(value, 'latin1') : value,
      Buffer.from(']\n', 'latin1'),
    ]);
  return Buffer.concat([
    line('0008,0005', 'CS', e.charset ?? 'ISO_IR 100'),
    line('0008,0050', 'SH', e.accession),
    line('0008,0090', 'PN', 'REFERRER^RITA'),
    line('0010,0010', 'PN', e.patientName ?? `PATIENT^${e.accession}`),
    line('0010,0020', 'LO', e.patientId ?? `PID-${e.accession}`),
    line('0010,0030', 'DA', e.birthDate ?? '19800101'),
    line('0010,0040', 'CS', e.sex ?? 'F'),
    line('0020,000d', 'UI', e.studyUid ?? `2.25.29.${e.accession.replace(/\D/g, '') || '0'}`),
    line('0032,1060', 'LO', e.description ?? `PROCEDURE ${e.accession}`),
    Buffer.from('(0040,0100) SQ\n(fffe,e000) -\n', 'latin1'),
    line('0008,0060', 'CS', e.modality ?? 'CT'),
    line('0040,0001', 'AE', e.station ?? 'CT1'),
    line('0040,0002', 'DA', e.date),
    line('0040,0003', 'TM', e.time ?? '083000'),
    line('0040,0006', 'PN', e.performer ?? 'TECH^TOM'),
    line('0040,0007', 'LO', `STEP ${e.accession}`),
    line('0040,0009', 'SH', e.spsId ?? `SPS-${e.accession}`),
    line('0040,0010', 'SH', 'STATION1'),
    line('0040,0011', 'SH', 'ROOM1'),
    line('0040,0020', 'CS', 'SCHEDULED'),
    Buffer.from('(fffe,e00d) -\n(fffe,e0dd) -\n', 'latin1'),
    line('0040,1001', 'SH', e.procedureId ?? `RP-${e.accession}`),
    line('0040,1003', 'SH', 'ROUTINE'),
  ]);
}

export interface Wlmscpfs {
  readonly port: number;
  readonly aet: string;
  /** Writes (or replaces) an item as <name>.wl. */
  put(name: string, entry: WorklistEntry): Promise<void>;
  remove(name: string): Promise<void>;
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same folder. */
  start(): Promise<void>;
}

/** wlmscpfs serving a worklist folder of its own as AE `aet` (-csk: items' character sets). */
export async function startWlmscpfs(aet = 'RIS'): Promise<Wlmscpfs> {
  const port = await freePort();
  const root = tempDir('wlmscpfs');
  const dir = path.join(root, aet);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'lockfile'), '');
  let child: ChildProcess | undefined;
  const peer: Wlmscpfs = {
    port,
    aet,
    async put(name, entry) {
      const dump = path.join(root, `${name}.dump`);
      await fs.writeFile(dump, worklistDump(entry));
      const r = await run('dump2dcm', ['-q', dump, path.join(dir, `${name}.wl`)]);
      if (r.code !== 0) throw new Error(`dump2dcm ${name}: ${r.stderr}`);
    },
    async remove(name) {
      await fs.rm(path.join(dir, `${name}.wl`));
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    },
    async start() {
      child = spawn('wlmscpfs', ['-csk', '-dfp', root, String(port)], {
        env: PEER_ENV,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      logOutput(child, 'wlmscpfs');
      await waitForPort(port);
    },
  };
  await peer.start();
  return peer;
}

export interface FindAnswer {
  readonly code: number | null;
  /** The final status findscu reports ("Success", or a failure's words), and its output. */
  readonly output: string;
  /** Each match's identifier as sent, parsed, and its bytes. */
  readonly matches: Array<{ readonly elements: Element[]; readonly bytes: Buffer }>;
}

/**
 * findscu -W against 127.0.0.1:port called `aec`, with -k keys and, optionally, a query
 * file (a dump written by dump2dcm, for values in other character sets).
 */
export async function findscuW(
  port: number,
  aec: string,
  keys: readonly string[],
  queryFile?: string,
): Promise<FindAnswer> {
  const out = tempDir('findscu');
  const args = [
    '-v',
    '-W',
    '-X',
    '-od',
    out,
    '-aet',
    'MODALITY',
    '-aec',
    aec,
    '127.0.0.1',
    String(port),
  ];
  for (const k of keys) args.push('-k', k);
  if (queryFile) args.push(queryFile);
  const r = await run('findscu', args);
  const files = (await fs.readdir(out)).filter((f) => f.startsWith('rsp')).sort();
  const matches = [];
  for (const f of files) {
    const buf = await fs.readFile(path.join(out, f));
    const bytes = buf.subarray(parsePart10Header(buf).datasetOffset);
    matches.push({ elements: parseDataset(bytes, EXPLICIT_LE), bytes });
  }
  await fs.rm(out, { recursive: true, force: true });
  return { code: r.code, output: r.stdout + r.stderr, matches };
}

/** The value of a top-level element of a match, as text. */
export function valueOf(elements: readonly Element[], tag: number): string {
  const e = elements.find((x) => x.tag === tag);
  return Buffer.isBuffer(e?.value) ? e.value.toString('latin1').replace(/[\0 ]+$/, '') : '';
}
