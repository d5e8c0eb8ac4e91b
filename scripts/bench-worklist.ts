// `make bench`, the modality worklist (issue 29), in one run on 127.0.0.1:
//  1. Replication of 1,000 items from DCMTK's wlmscpfs (a folder of .wl files written by
//     dump2dcm) into the box's copy: the first replication (every item new) and the next
//     ones (nothing changed), as `dicom-edge worklist refresh` times them.
//  2. A modality's typical MWL C-FIND (its station AE title, today, its modality; the keys a
//     modality fills its exam form with), median of QUERIES, against wlmscpfs directly and
//     against the box: by DCMTK's findscu -W (a process per query, as a field engineer
//     runs it) and by the box's own SCU on one process (the association and the answers).
import * as path from 'node:path';
import { controlRequest } from '../firmware/control/control-client';
import { MODALITY_WORKLIST_FIND_SOP_CLASS } from '../firmware/dicom/registry/uid';
import type { Element } from '../firmware/dicom/dataset/dataset-writer';
import { lookupTag } from '../firmware/dicom/registry/dictionary';
import { Tag } from '../firmware/dicom/registry/tags';
import { mwlFind } from '../firmware/worklist/mwl-scu';
import { localDate } from '../firmware/worklist/replication';
import { run } from '../test/support/peers';
import { startWlmscpfs, type Wlmscpfs } from '../test/support/worklist-peers';
import { startBoxProcess, type BoxProcess } from './bench-support';

const ITEMS = Number(process.env.BENCH_WORKLIST_ITEMS ?? 1000);
const STATIONS = ['CT1', 'CT2', 'MR1', 'US1'];
const QUERIES = Number(process.env.BENCH_WORKLIST_QUERIES ?? 30);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The items: spread over four stations, today, one every few minutes. */
async function writeItems(ris: Wlmscpfs, today: string): Promise<void> {
  const jobs = Array.from({ length: ITEMS }, (_, n) => n);
  const worker = async (): Promise<void> => {
    for (let n = jobs.shift(); n !== undefined; n = jobs.shift()) {
      const station = STATIONS[n % STATIONS.length]!;
      const minutes = 7 * 60 + ((n * 3) % 720);
      await ris.put(`item${n}`, {
        accession: `B${n}`,
        patientName: `PATIENT${n}^GIVEN^M`,
        patientId: `PID${n}`,
        station,
        modality: station.slice(0, 2),
        date: today,
        time: `${String(Math.floor(minutes / 60)).padStart(2, '0')}${String(minutes % 60).padStart(2, '0')}00`,
      });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** The keys a modality's exam form is filled from (IHE SWF), for its station today. */
const MODALITY_KEYS = (today: string): string[] => [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'AccessionNumber',
  'StudyInstanceUID',
  'RequestedProcedureDescription',
  'RequestedProcedureID',
  'ReferringPhysicianName',
  '(0040,0100)[0].ScheduledStationAETitle=CT1',
  `(0040,0100)[0].ScheduledProcedureStepStartDate=${today}`,
  '(0040,0100)[0].ScheduledProcedureStepStartTime',
  '(0040,0100)[0].Modality=CT',
  '(0040,0100)[0].ScheduledProcedureStepDescription',
  '(0040,0100)[0].ScheduledProcedureStepID',
  '(0040,0100)[0].ScheduledPerformingPhysicianName',
];

/** The same query as an identifier, for the box's own SCU. */
function modalityIdentifier(today: string): Element[] {
  const empty = (tag: number): Element => ({ tag, vr: lookupTag(tag)?.vr ?? 'LO', value: '' });
  const step: Element[] = [
    { tag: Tag.Modality, vr: 'CS', value: 'CT' },
    { tag: Tag.ScheduledStationAeTitle, vr: 'AE', value: 'CT1' },
    { tag: Tag.ScheduledProcedureStepStartDate, vr: 'DA', value: today },
    empty(Tag.ScheduledProcedureStepStartTime),
    empty(Tag.ScheduledPerformingPhysicianName),
    empty(Tag.ScheduledProcedureStepDescription),
    empty(Tag.ScheduledProcedureStepId),
  ];
  return [
    empty(Tag.AccessionNumber),
    empty(Tag.ReferringPhysicianName),
    empty(Tag.PatientName),
    empty(Tag.PatientId),
    empty(Tag.PatientBirthDate),
    empty(Tag.PatientSex),
    empty(Tag.StudyInstanceUid),
    empty(Tag.RequestedProcedureDescription),
    { tag: Tag.ScheduledProcedureStepSequence, vr: 'SQ', value: [step] },
    empty(Tag.RequestedProcedureId),
  ];
}

async function findscuTimes(
  port: number,
  aec: string,
  keys: string[],
): Promise<{ ms: number; matches: number }> {
  const times: number[] = [];
  let matches = 0;
  for (let q = 0; q < QUERIES; q++) {
    const t = process.hrtime.bigint();
    const r = await run('findscu', [
      '-v',
      '-W',
      '-aec',
      aec,
      '127.0.0.1',
      String(port),
      ...keys.flatMap((k) => ['-k', k]),
    ]);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.code !== 0 || !/Final Find Response \(Success\)/.test(r.stdout + r.stderr))
      throw new Error(`findscu: ${r.stderr.slice(-300)}`);
    matches = (r.stdout + r.stderr).match(/Find Response: \d+ \(Pending\)/g)?.length ?? 0;
  }
  return { ms: median(times), matches };
}

async function scuTimes(
  port: number,
  aec: string,
  identifier: Element[],
): Promise<{ ms: number; matches: number }> {
  const times: number[] = [];
  let matches = 0;
  for (let q = 0; q < QUERIES; q++) {
    let n = 0;
    const t = process.hrtime.bigint();
    const r = await mwlFind(
      { host: '127.0.0.1', port, callingAeTitle: 'CT1', calledAeTitle: aec },
      identifier,
      { match: () => void n++, malformed: () => undefined, enough: () => false },
      30_000,
    );
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 0)
      throw new Error(`${MODALITY_WORKLIST_FIND_SOP_CLASS} status ${r.status.toString(16)}`);
    matches = n;
  }
  return { ms: median(times), matches };
}

async function main(): Promise<void> {
  const today = localDate(new Date());
  let ris: Wlmscpfs | undefined;
  let box: BoxProcess | undefined;
  try {
    ris = await startWlmscpfs();
    process.stdout.write(`writing ${ITEMS} worklist items with dump2dcm for wlmscpfs\n`);
    await writeItems(ris, today);
    // No source at first: the box's first replication starts when the source is named.
    box = await startBoxProcess({
      worklist: {
        intervalSeconds: 86400,
        timeoutSeconds: 120,
        query: { daysBefore: 0, daysAfter: 1 },
      },
    });
    const storageDir = path.join(box.dir, 'var');
    const refresh = async (): Promise<{ wall: number; added: number; ms: number }> => {
      const t = process.hrtime.bigint();
      const { refresh: r } = await controlRequest(
        storageDir,
        { command: 'worklist-refresh' },
        600_000,
      );
      const wall = Number(process.hrtime.bigint() - t) / 1e6;
      if (!r.ok) throw new Error(`replication failed: ${r.reason}`);
      return { wall, added: r.replicated.added, ms: r.replicated.ms };
    };
    await controlRequest(storageDir, {
      command: 'config-set',
      set: {
        nodes: [
          { name: 'ris', ae: ris.aet, host: '127.0.0.1', port: ris.port, worklistSource: true },
        ],
      },
    });
    // The replication the new source started (refresh waits for the one under way).
    const first = await refresh();
    if (first.added !== ITEMS) throw new Error(`the first replication added ${first.added} items`);
    const again = [await refresh(), await refresh(), await refresh()];

    const keys = MODALITY_KEYS(today);
    const identifier = modalityIdentifier(today);
    const risFindscu = await findscuTimes(ris.port, ris.aet, keys);
    const boxFindscu = await findscuTimes(box.port, 'DICOM_EDGE', keys);
    const risScu = await scuTimes(ris.port, ris.aet, identifier);
    const boxScu = await scuTimes(box.port, 'DICOM_EDGE', identifier);

    const line = (s: string): boolean => process.stdout.write(`${s}\n`);
    line(`\nReplication of ${ITEMS} items from wlmscpfs into the box's copy:`);
    line(
      `  first (every item new)   ${first.ms} ms  (${first.added} added; ${first.wall.toFixed(0)} ms through the control socket)`,
    );
    line(`  again (nothing changed)  ${median(again.map((a) => a.ms))} ms  (median of 3)`);
    line(
      `A modality's MWL C-FIND (station CT1, today, CT; ${keys.length} keys), median of ${QUERIES}:`,
    );
    line(
      `  findscu -W   wlmscpfs ${risFindscu.ms.toFixed(1)} ms   box ${boxFindscu.ms.toFixed(1)} ms   (${boxFindscu.matches} matches each; a findscu process per query)`,
    );
    line(
      `  one process  wlmscpfs ${risScu.ms.toFixed(1)} ms   box ${boxScu.ms.toFixed(1)} ms   (${boxScu.matches} matches; association and answers only)`,
    );
    if (risScu.matches !== boxScu.matches || risFindscu.matches !== boxFindscu.matches)
      line(`  MATCHES DIFFER: wlmscpfs ${risScu.matches}, box ${boxScu.matches}`);
  } finally {
    await box?.stop();
    await ris?.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
