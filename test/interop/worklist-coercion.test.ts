// The check on arrival (issue 29): an instance whose Accession Number (or Study Instance
// UID) names a worklist item of wlmscpfs but whose patient differs is listed by
// `dicom-edge worklist mismatches`; where the rule coerces, the copy storescp receives
// carries the item's values and is otherwise the instance as sent, element for element
// (both parsed); where the rule only lists, it goes as it came. The cached original stays
// as the modality sent it (DCMTK getscu fetches it back). Names in ISO 2022 IR 87 are
// coerced with the item's own bytes when the instance uses that character set, and not
// coerced, with the reason, when its character set cannot hold them.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { controlRequest } from '../../firmware/control/control-client';
import { parseDataset } from '../../firmware/dicom/dataset/dataset-parser';
import type { Element } from '../../firmware/dicom/dataset/dataset-writer';
import { Tag } from '../../firmware/dicom/registry/tags';
import { localDate } from '../../firmware/worklist/replication';
import { BIN } from '../support/box-process';
import { JAPANESE_H31 } from '../support/charset-examples';
import {
  datasetBytes,
  drained,
  listFiles,
  run,
  startBox,
  startStorescp,
  storescu,
  tempDir,
  type TestBox,
} from '../support/peers';
import { uid, writeSyntheticFile } from '../support/synthetic';
import { EXPLICIT_LE, startWlmscpfs, type Wlmscpfs } from '../support/worklist-peers';

const today = localDate(new Date());

/** The elements of a data set by tag, values as bytes (sequences as parsed). */
function byTag(elements: readonly Element[]): Map<number, Element['value']> {
  return new Map(elements.map((e) => [e.tag, e.value]));
}

describe('the check on arrival against the worklist, and the coerced forwarded copy (issue 29)', function () {
  this.timeout(120_000);
  let ris: Wlmscpfs;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  let box: TestBox;
  let configFile: string;
  const dir = tempDir('mwl-coerce');
  /** The files sent, by SOP Instance UID. */
  const sent = new Map<string, string>();

  async function send(
    n: number,
    aet: string,
    o: Parameters<typeof writeSyntheticFile>[1],
  ): Promise<string> {
    const file = path.join(dir, `i${n}.dcm`);
    await writeSyntheticFile(file, o);
    sent.set(o.sopInstanceUid, file);
    await storescu(box.port, [file], ['-aet', aet]);
    return o.sopInstanceUid;
  }

  /** What storescp received of an instance, parsed, and what was sent, parsed. */
  async function receivedAndSent(
    sop: string,
  ): Promise<[Map<number, unknown>, Map<number, unknown>]> {
    const files = await listFiles(pacs.dir);
    const received = files.find((f) => path.basename(f).includes(sop))!;
    assert.ok(received, `storescp has ${sop}`);
    return [
      byTag(parseDataset(await datasetBytes(received), EXPLICIT_LE)),
      byTag(parseDataset(await datasetBytes(sent.get(sop)!), EXPLICIT_LE)),
    ];
  }

  before(async () => {
    ris = await startWlmscpfs();
    await ris.put('k1', {
      accession: 'K1',
      patientName: 'DOE^JOHN',
      patientId: 'PID-K1',
      birthDate: '19800101',
      studyUid: uid(1),
      date: today,
    });
    await ris.put('k2', {
      accession: 'K2',
      patientName: 'ROE^RITA',
      patientId: 'PID-K2',
      birthDate: '19750505',
      studyUid: uid(2),
      date: today,
    });
    await ris.put('k3', {
      accession: 'K3',
      patientName: JAPANESE_H31,
      charset: '\\ISO 2022 IR 87',
      patientId: 'PID-K3',
      birthDate: '19700101',
      studyUid: uid(3),
      date: today,
    });
    pacs = await startStorescp();
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
        { name: 'pacs', ae: 'STORESCP', host: '127.0.0.1', port: pacs.port, forward: true },
      ],
      worklist: {
        intervalSeconds: 3600,
        maxAgeSeconds: 86400,
        timeoutSeconds: 10,
        maxItems: 10_000,
        query: { stationAeTitles: [], modalities: [], daysBefore: 0, daysAfter: 0 },
        // Instances of CT1 are coerced; those of anyone else only listed.
        checks: [{ when: { callingAe: ['CT1'] }, coerce: true }, { coerce: false }],
      },
    });
    configFile = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(configFile, JSON.stringify({ storageDir: box.config.storageDir }));
    const r = await controlRequest(box.config.storageDir, { command: 'worklist-refresh' });
    assert.ok(r.refresh.ok, JSON.stringify(r.refresh));
  });
  after(async () => {
    await box?.stop();
    await pacs?.stop();
    await ris?.stop();
  });

  it('a mistyped name of a scheduled accession is listed, and coerced in the copy forwarded', async () => {
    const sop = await send(1, 'CT1', {
      studyUid: uid(1),
      seriesUid: uid(1, 1),
      sopInstanceUid: uid(1, 1, 1),
      accessionNumber: 'K1',
      patientName: 'DOE^JON',
      patientId: 'PID-K1',
      patientBirthDate: '19800101',
    });
    await drained(box, 'pacs');
    const [received, original] = await receivedAndSent(sop);
    // Element for element the instance sent, but its name: the item's.
    assert.deepEqual([...received.keys()], [...original.keys()]);
    for (const [tag, value] of original)
      if (tag !== Tag.PatientName)
        assert.deepEqual(received.get(tag), value, `(${tag.toString(16)})`);
    assert.equal((received.get(Tag.PatientName) as Buffer).toString('latin1'), 'DOE^JOHN');
    assert.equal((original.get(Tag.PatientName) as Buffer).toString('latin1').trim(), 'DOE^JON');

    const listed = await run(BIN, ['worklist', 'mismatches', '--config', configFile]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      new RegExp(`CT1 +SOP ${sop.replace(/\./g, '\\.')}\\n  accession K1\\n`),
    );
    assert.match(listed.stdout, /PatientName: received "DOE\^JON", scheduled "DOE\^JOHN"/);
    assert.match(listed.stdout, /forwarded: with the item's PatientName/);
  });

  it('the original stays in the cache as sent: getscu fetches it back unchanged', async () => {
    const out = tempDir('mwl-getscu');
    const sop = uid(1, 1, 1);
    const r = await run('getscu', [
      '-aet',
      'GETSCU',
      '-aec',
      'DICOM_EDGE',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=IMAGE',
      '-k',
      `StudyInstanceUID=${uid(1)}`,
      '-k',
      `SeriesInstanceUID=${uid(1, 1)}`,
      '-k',
      `SOPInstanceUID=${sop}`,
      '127.0.0.1',
      String(box.port),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [fetched] = await listFiles(out);
    assert.ok(fetched, r.stdout + r.stderr);
    assert.deepEqual(
      parseDataset(await datasetBytes(fetched), EXPLICIT_LE),
      parseDataset(await datasetBytes(sent.get(sop)!), EXPLICIT_LE),
    );
  });

  it('a rule that only lists: listed, forwarded as it came; the match by Study Instance UID', async () => {
    const sop = await send(2, 'US1', {
      studyUid: uid(2),
      seriesUid: uid(2, 1),
      sopInstanceUid: uid(2, 1, 1),
      accessionNumber: '',
      patientName: 'ROE^RITA',
      patientId: 'PID-K2',
      patientBirthDate: '19750550',
    });
    await drained(box, 'pacs');
    const [received, original] = await receivedAndSent(sop);
    assert.deepEqual(received, original);
    const list = await controlRequest(box.config.storageDir, { command: 'worklist-mismatches' });
    const m = list.find((x) => x.sopInstanceUid === sop)!;
    assert.equal(m.matchedBy, 'study');
    assert.deepEqual(m.differences, [
      { attribute: 'PatientBirthDate', received: '19750550', scheduled: '19750505' },
    ]);
    assert.equal(m.coerced, null);
  });

  it('ISO 2022 IR 87: the item’s bytes where the instance uses that set; where it cannot, not coerced and why', async () => {
    const jp = await send(3, 'CT1', {
      studyUid: uid(3),
      seriesUid: uid(3, 1),
      sopInstanceUid: uid(3, 1, 1),
      accessionNumber: 'K3',
      charset: '\\ISO 2022 IR 87',
      patientName: 'Yamada^Tarou',
      patientId: 'PID-K3',
    });
    const latin = await send(4, 'CT1', {
      studyUid: uid(3),
      seriesUid: uid(3, 2),
      sopInstanceUid: uid(3, 2, 1),
      accessionNumber: 'K3',
      charset: 'ISO_IR 100',
      patientName: 'Yamada^Tarou',
      patientId: 'PID-K3',
    });
    await drained(box, 'pacs');
    const [received] = await receivedAndSent(jp);
    const name = received.get(Tag.PatientName) as Buffer;
    assert.ok(name.subarray(0, JAPANESE_H31.length).equals(JAPANESE_H31));
    const [asIs, original] = await receivedAndSent(latin);
    assert.deepEqual(asIs, original);
    const list = await controlRequest(box.config.storageDir, { command: 'worklist-mismatches' });
    const note = list.find((x) => x.sopInstanceUid === latin)!;
    assert.deepEqual(note.coerced, []);
    assert.match(
      note.note ?? '',
      /cannot be written in the instance's character set \(ISO_IR 100\)/,
    );
  });
});
