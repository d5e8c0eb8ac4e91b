// The modality worklist through WAN outages (issue 29), with real peers: DCMTK's wlmscpfs
// as the RIS, findscu -W as the modality. The box replicates the day's and the next day's
// items, answers each key as the RIS does, drops what the RIS no longer lists, keeps
// serving its copy while the RIS is gone (flagged stale in status and metrics) until the
// copy is older than worklist.maxAgeSeconds (then C001), and is fresh again once the RIS
// is back. Names in ISO 2022 IR 87 pass byte for byte and are found in either encoding.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { controlRequest } from '../../firmware/control/control-client';
import { runningStatus } from '../../firmware/control/commands';
import { Tag } from '../../firmware/dicom/registry/tags';
import { localDate } from '../../firmware/worklist/replication';
import { BIN } from '../support/box-process';
import { JAPANESE_H31 } from '../support/charset-examples';
import { freePort, run, startBox, tempDir, type TestBox } from '../support/peers';
import { TmuxScreen } from '../support/tmux';
import { waitFor } from '../support/wait';
import {
  findscuW,
  startWlmscpfs,
  valueOf,
  type FindAnswer,
  type Wlmscpfs,
} from '../support/worklist-peers';

const today = localDate(new Date());
const tomorrow = localDate(new Date(), 1);
const inFiveDays = localDate(new Date(), 5);

/** The accession numbers of an answer's matches, sorted. */
function accessions(a: FindAnswer): string[] {
  return a.matches.map((m) => valueOf(m.elements, Tag.AccessionNumber)).sort();
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) =>
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject),
  );
}

describe('the modality worklist, DCMTK wlmscpfs as the RIS and findscu -W as the modality (issue 29)', function () {
  this.timeout(120_000);
  let ris: Wlmscpfs;
  let box: TestBox;
  let metricsPort: number;

  const refresh = async (): Promise<{ ok: boolean }> =>
    (await controlRequest(box.config.storageDir, { command: 'worklist-refresh' })).refresh;
  const status = async () =>
    runningStatus(await controlRequest(box.config.storageDir, { command: 'status' })).worklist!;
  /** The same query to the box and to the RIS. */
  const both = async (keys: string[]): Promise<[FindAnswer, FindAnswer]> => [
    await findscuW(box.port, 'DICOM_EDGE', keys),
    await findscuW(ris.port, 'RIS', keys),
  ];

  before(async () => {
    ris = await startWlmscpfs();
    await ris.put('a1', { accession: 'A1', patientName: 'DOE^JANE', date: today, time: '080000' });
    await ris.put('a2', {
      accession: 'A2',
      patientName: 'ROE^RICHARD',
      date: today,
      time: '101500',
      station: 'CT2',
    });
    await ris.put('a3', {
      accession: 'A3',
      patientName: 'POE^EDGAR',
      date: tomorrow,
      time: '143000',
      modality: 'MR',
      station: 'MR1',
    });
    await ris.put('a4', {
      accession: 'A4',
      patientName: JAPANESE_H31,
      charset: '\\ISO 2022 IR 87',
      date: today,
      time: '120000',
    });
    // Outside the window of the query (today to tomorrow): never replicated.
    await ris.put('a9', { accession: 'A9', date: inFiveDays });
    metricsPort = await freePort();
    box = await startBox({
      nodes: [
        {
          name: 'ris',
          ae: 'RIS',
          host: '127.0.0.1',
          port: ris.port,
          forward: false,
          worklistSource: true,
        },
      ],
      worklist: {
        intervalSeconds: 3600,
        maxAgeSeconds: 3600,
        timeoutSeconds: 10,
        maxItems: 10_000,
        query: { stationAeTitles: [], modalities: [], daysBefore: 0, daysAfter: 1 },
        checks: [],
      },
      metrics: { port: metricsPort, host: '127.0.0.1' },
    });
  });
  after(async () => {
    await box?.stop();
    await ris?.stop();
  });

  it("replicates the day's and the next day's items, and says so", async () => {
    const r = await controlRequest(box.config.storageDir, { command: 'worklist-refresh' });
    assert.ok(r.refresh.ok, JSON.stringify(r.refresh));
    assert.deepEqual(
      r.refresh.ok && [r.refresh.replicated.items, r.refresh.replicated.added],
      [4, 4],
    );
    const s = await status();
    assert.equal(s.state, 'fresh');
    assert.equal(s.items, 4);
    const listed = await run(process.execPath, [
      path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge'),
      'worklist',
      '--config',
      await configFile(box),
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^copy: +ris: 4 items, fresh, taken \d+s ago$/m);
    assert.match(
      listed.stdout,
      new RegExp(`^${today} +080000 +CT1 +CT +A1 +PID-A1 +DOE\\^JANE`, 'm'),
    );
    assert.doesNotMatch(listed.stdout, /A9/);
  });

  it('finds by each key what the RIS finds (the item outside the window aside)', async () => {
    const cases: Array<[string, string[], string[]]> = [
      ["Patient's Name, wildcard", ['PatientName=DOE*', 'AccessionNumber'], ['A1']],
      ['Patient ID', ['PatientID=PID-A2', 'AccessionNumber'], ['A2']],
      ['Accession Number', ['AccessionNumber=A3'], ['A3']],
      // wlmscpfs does not match on Study Instance UID (an optional key): the box does.
      ['Study Instance UID', ['StudyInstanceUID=2.25.29.1', 'AccessionNumber'], ['A1']],
      ['Requested Procedure ID', ['RequestedProcedureID=RP-A2', 'AccessionNumber'], ['A2']],
      [
        'Scheduled Station AE Title',
        ['AccessionNumber', '(0040,0100)[0].ScheduledStationAETitle=CT1'],
        ['A1', 'A4'],
      ],
      ['Modality', ['AccessionNumber', '(0040,0100)[0].Modality=MR'], ['A3']],
      [
        'start date',
        ['AccessionNumber', `(0040,0100)[0].ScheduledProcedureStepStartDate=${today}`],
        ['A1', 'A2', 'A4'],
      ],
      [
        'start date range',
        ['AccessionNumber', `(0040,0100)[0].ScheduledProcedureStepStartDate=${today}-${tomorrow}`],
        ['A1', 'A2', 'A3', 'A4'],
      ],
      [
        'start time range',
        ['AccessionNumber', '(0040,0100)[0].ScheduledProcedureStepStartTime=0900-1300'],
        ['A2', 'A4'],
      ],
      [
        "Scheduled Performing Physician's Name",
        ['AccessionNumber', '(0040,0100)[0].ScheduledPerformingPhysicianName=TECH^TOM'],
        ['A1', 'A2', 'A3', 'A4'],
      ],
    ];
    for (const [what, keys, expected] of cases) {
      const [fromBox, fromRis] = await both(keys);
      assert.equal(fromBox.code, 0, `${what}: ${fromBox.output}`);
      assert.deepEqual(accessions(fromBox), expected, what);
      if (what !== 'Study Instance UID')
        assert.deepEqual(
          accessions(fromBox),
          accessions(fromRis).filter((a) => a !== 'A9'),
          what,
        );
    }
  });

  it("answers with the RIS's values, key for key, the step's sequence included", async () => {
    const keys = [
      'AccessionNumber=A2',
      'PatientName',
      'PatientID',
      'PatientBirthDate',
      'PatientSex',
      'StudyInstanceUID',
      'RequestedProcedureDescription',
      'RequestedProcedureID',
      '(0040,0100)[0].Modality',
      '(0040,0100)[0].ScheduledStationAETitle',
      '(0040,0100)[0].ScheduledProcedureStepStartDate',
      '(0040,0100)[0].ScheduledProcedureStepStartTime',
      '(0040,0100)[0].ScheduledProcedureStepDescription',
      '(0040,0100)[0].ScheduledProcedureStepID',
    ];
    const [fromBox, fromRis] = await both(keys);
    assert.equal(fromBox.matches.length, 1);
    assert.deepEqual(fromBox.matches[0]!.elements, fromRis.matches[0]!.elements);
  });

  it('ISO 2022 IR 87: the name passes byte for byte, found in ISO 2022 and in UTF-8', async () => {
    const dir = tempDir('mwl-jp');
    const write = async (name: string, charset: string, value: Buffer): Promise<string> => {
      const dump = path.join(dir, `${name}.dump`);
      await fs.writeFile(
        dump,
        Buffer.concat([
          Buffer.from(`(0008,0005) CS [${charset}]\n(0008,0050) SH []\n(0010,0010) PN [`, 'latin1'),
          value,
          Buffer.from(
            ']\n(0040,0100) SQ\n(fffe,e000) -\n(0040,0002) DA []\n(fffe,e00d) -\n(fffe,e0dd) -\n',
          ),
        ]),
      );
      const file = path.join(dir, `${name}.dcm`);
      const r = await run('dump2dcm', ['-q', dump, file]);
      assert.equal(r.code, 0, r.stderr);
      return file;
    };
    const ESC = '\x1b';
    // The ideographic group alone, in ISO 2022 IR 87 with a redundant escape, as some SCUs write it.
    const iso2022 = await write(
      'iso2022',
      '\\ISO 2022 IR 87',
      Buffer.from(`${ESC}(B${ESC}$B;3ED${ESC}(B^${ESC}$BB@O:${ESC}(B`, 'latin1'),
    );
    const utf8 = await write('utf8', 'ISO_IR 192', Buffer.from('山田^太郎'));
    for (const query of [iso2022, utf8]) {
      const a = await findscuW(box.port, 'DICOM_EDGE', [], query);
      assert.equal(a.code, 0, a.output);
      assert.deepEqual(accessions(a), ['A4'], query);
      const name = a.matches[0]!.elements.find((e) => e.tag === Tag.PatientName)!.value as Buffer;
      assert.ok(
        name.subarray(0, JAPANESE_H31.length).equals(JAPANESE_H31),
        name.toString('latin1'),
      );
      assert.equal(valueOf(a.matches[0]!.elements, Tag.SpecificCharacterSet), '\\ISO 2022 IR 87');
    }
  });

  it('an item the RIS no longer lists disappears at the next replication', async () => {
    await ris.remove('a2');
    assert.ok((await refresh()).ok);
    const a = await findscuW(box.port, 'DICOM_EDGE', ['AccessionNumber']);
    assert.deepEqual(accessions(a), ['A1', 'A3', 'A4']);
    assert.equal((await status()).items, 3);
    await ris.put('a2', {
      accession: 'A2',
      patientName: 'ROE^RICHARD',
      date: today,
      time: '101500',
      station: 'CT2',
    });
    assert.ok((await refresh()).ok);
    assert.equal((await status()).items, 4);
  });

  it('the dashboard (tmux, 80x24) and the console show the copy: fresh, then stale', async () => {
    const config = await configFile(box);
    const screen = new TmuxScreen();
    await screen.start(`${BIN} dashboard --config ${config}`);
    try {
      const fresh = await screen.until(/^Worklist ris: 4 items, fresh, taken \d+s ago/m);
      const lines = fresh.replace(/\n$/, '').split('\n');
      assert.equal(lines.length, 24);
      assert.ok(lines.every((l) => l.length <= 80));
      assert.match(lines[23]!, /q:quit/);
      await ris.stop();
      try {
        assert.equal((await refresh()).ok, false);
        await screen.until(/^Worklist ris: 4 items, STALE since \d\d:\d\d:\d\d \(\d+s old\)/m);
        const console = spawn(BIN, ['console', '--config', config]);
        let out = '';
        console.stdout.on('data', (d: Buffer) => (out += d.toString()));
        console.stdin.end('worklist\nworklist mismatches\nworklist bogus\n');
        assert.equal(await new Promise((r) => console.once('close', r)), 0);
        assert.match(out, /^copy: +ris: 4 items, STALE since /m);
        assert.match(out, /^failing: +since \S+: cannot associate/m);
        assert.match(out, /no instance differs from its worklist item/);
        assert.match(out, /error: usage: worklist \[refresh \| mismatches\]/);
      } finally {
        await ris.start();
      }
      assert.ok((await refresh()).ok);
      await screen.until(/^Worklist ris: 4 items, fresh/m);
    } finally {
      await screen.stop();
    }
  });

  it('the RIS gone: the copy is served, flagged stale, until maxAgeSeconds; then C001; back: fresh', async () => {
    await ris.stop();
    const failed = await refresh();
    assert.equal(failed.ok, false);
    const stale = await status();
    assert.equal(stale.state, 'stale');
    assert.ok(stale.failingSince, 'since when');
    assert.match(stale.lastError ?? '', /cannot associate/);
    const served = await findscuW(box.port, 'DICOM_EDGE', ['AccessionNumber']);
    assert.equal(served.code, 0, served.output);
    assert.deepEqual(accessions(served), ['A1', 'A2', 'A3', 'A4']);
    const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.match(metrics, /^dicom_edge_worklist_stale 1$/m);
    assert.match(metrics, /^dicom_edge_worklist_age_seconds \d+$/m);
    assert.match(metrics, /^dicom_edge_worklist_items 4$/m);
    const shown = runningStatus(await controlRequest(box.config.storageDir, { command: 'status' }));
    assert.equal(shown.worklist?.state, 'stale');

    // The window ends: 1 s old is too old now.
    await box.liveConfig.change({
      worklist: { ...box.liveConfig.get().worklist, maxAgeSeconds: 1 },
    });
    await waitFor('the copy expired', async () => (await status()).state === 'expired', 10_000);
    const refused = await findscuW(box.port, 'DICOM_EDGE', ['AccessionNumber']);
    assert.equal(refused.matches.length, 0);
    assert.match(refused.output, /Received Final Find Response \(Failed: UnableToProcess\)/);
    assert.match(
      await get(`http://127.0.0.1:${metricsPort}/metrics`),
      /^dicom_edge_worklist_stale 1$/m,
    );

    // The RIS back: fresh at the next replication, served again.
    await box.liveConfig.change({
      worklist: { ...box.liveConfig.get().worklist, maxAgeSeconds: 3600 },
    });
    await ris.start();
    assert.ok((await refresh()).ok);
    const fresh = await status();
    assert.equal(fresh.state, 'fresh');
    assert.equal(fresh.failingSince, null);
    assert.deepEqual(accessions(await findscuW(box.port, 'DICOM_EDGE', ['AccessionNumber'])), [
      'A1',
      'A2',
      'A3',
      'A4',
    ]);
    assert.match(
      await get(`http://127.0.0.1:${metricsPort}/metrics`),
      /^dicom_edge_worklist_stale 0$/m,
    );
  });
});

/** A config file the CLI finds the box by. */
async function configFile(box: TestBox): Promise<string> {
  const file = path.join(tempDir('mwl-cli'), 'dicom-edge.json');
  await fs.writeFile(file, JSON.stringify({ storageDir: box.config.storageDir }));
  return file;
}
