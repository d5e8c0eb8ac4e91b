// Local query/retrieve against independent peers on 127.0.0.1: DCMTK findscu, movescu,
// getscu and storescp, and Orthanc (as a requester through its REST API, and as the SCP
// for our own find/move/get commands).
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Association } from '../../firmware/dicom/association';
import { tcpConnector } from '../../firmware/dicom/transport';
import { encodeDataset } from '../../firmware/dicom/dataset/dataset-writer';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { CommandField } from '../../firmware/dicom/dimse/command-field';
import { DimseRequestor } from '../../firmware/dicom/dimse/dimse-requestor';
import { QR_SOP_CLASSES } from '../../firmware/services/qr/attributes';
import { findScu, getScu, moveScu } from '../../firmware/services/qr-scu';
import { identifierFrom } from '../../firmware/services/qr/keys';
import {
  datasetBytes,
  freePort,
  listFiles,
  run,
  startBox,
  startStorescp,
  tempDir,
  type TestBox,
  storescu,
} from '../support/peers';
import { startOrthanc, type OrthancPeer } from '../support/orthanc';
import { MR_IMAGE_STORAGE, uid, writeSyntheticFile } from '../support/synthetic';
import { waitFor } from '../support/wait';

const A = uid(100); // ANDERSON^ANNA, P1: a CT series (3) and an MR series (2), 2026-11-25
const B = uid(101); // Müller^Jürgen, P2, ISO_IR 192: one CT, 2025-06-01
const C = uid(102); // BROWN^BOB, P3: one CT, 2024-03-15

interface Sent {
  readonly files: string[];
  readonly bySop: Map<string, string>;
}

async function makeCache(dir: string): Promise<Sent> {
  const files: string[] = [];
  const add = async (name: string, o: Parameters<typeof writeSyntheticFile>[1]): Promise<void> => {
    const f = path.join(dir, name);
    await writeSyntheticFile(f, o);
    files.push(f);
  };
  for (let i = 1; i <= 3; i++) {
    await add(`a-ct-${i}.dcm`, {
      studyUid: A,
      seriesUid: `${A}.1`,
      sopInstanceUid: `${A}.1.${i}`,
      patientName: 'ANDERSON^ANNA',
      patientId: 'P1',
      instanceNumber: i,
    });
  }
  for (let i = 1; i <= 2; i++) {
    await add(`a-mr-${i}.dcm`, {
      studyUid: A,
      seriesUid: `${A}.2`,
      sopInstanceUid: `${A}.2.${i}`,
      patientName: 'ANDERSON^ANNA',
      patientId: 'P1',
      modality: 'MR',
      sopClassUid: MR_IMAGE_STORAGE,
    });
  }
  await add('b.dcm', {
    studyUid: B,
    seriesUid: `${B}.1`,
    sopInstanceUid: `${B}.1.1`,
    patientName: 'Müller^Jürgen',
    patientId: 'P2',
    charset: 'ISO_IR 192',
    studyDate: '20250601',
  });
  await add('c.dcm', {
    studyUid: C,
    seriesUid: `${C}.1`,
    sopInstanceUid: `${C}.1.1`,
    patientName: 'BROWN^BOB',
    patientId: 'P3',
    studyDate: '20240315',
  });
  const bySop = new Map<string, string>();
  for (const f of files)
    bySop.set(parsePart10Header(await fs.readFile(f)).meta.mediaStorageSopInstanceUid, f);
  return { files, bySop };
}

async function findscu(
  port: number,
  args: string[],
): Promise<{ code: number | null; out: string; matches: number }> {
  const r = await run('findscu', ['-v', '-aec', 'DICOM_EDGE', '127.0.0.1', String(port), ...args]);
  const out = r.stdout + r.stderr;
  return { code: r.code, out, matches: (out.match(/Find Response: \d+ \(Pending/g) ?? []).length };
}

/** Every received file's data set is byte-identical to the file originally sent. */
async function assertIdentical(files: string[], sent: Sent): Promise<void> {
  for (const f of files) {
    const sop = parsePart10Header(await fs.readFile(f)).meta.mediaStorageSopInstanceUid;
    const original = sent.bySop.get(sop);
    assert.ok(original, `unexpected ${sop}`);
    assert.deepEqual(await datasetBytes(f), await datasetBytes(original));
  }
}

describe('query/retrieve served from the cache', function () {
  this.timeout(180_000);
  let box: TestBox;
  let sent: Sent;
  let scp: Awaited<ReturnType<typeof startStorescp>>;
  let slow: Awaited<ReturnType<typeof startStorescp>>;
  let orthancDicomPort: number;

  before(async () => {
    scp = await startStorescp(['+xa']);
    slow = await startStorescp(['+xa', '--sleep-during', '1']);
    orthancDicomPort = await freePort(); // Orthanc starts later, on this port
    box = await startBox({
      nodes: [
        { name: 'ws', ae: 'STORESCP', host: '127.0.0.1', port: scp.port, forward: false },
        { name: 'slow', ae: 'SLOWSCP', host: '127.0.0.1', port: slow.port, forward: false },
        {
          name: 'orthanc',
          ae: 'ORTHANC',
          host: '127.0.0.1',
          port: orthancDicomPort,
          forward: false,
        },
      ],
    });
    sent = await makeCache(tempDir('qr'));
    await storescu(box.port, sent.files);
  });
  after(async () => {
    await box.stop();
    await scp.stop();
    await slow.stop();
  });

  describe('C-FIND with DCMTK findscu', () => {
    it('Study Root, STUDY: case-insensitive wildcard on names, computed keys', async () => {
      const r = await findscu(box.port, [
        '-S',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'PatientName=and*',
        '-k',
        'StudyInstanceUID',
        '-k',
        'ModalitiesInStudy',
        '-k',
        'NumberOfStudyRelatedInstances',
        '-k',
        'NumberOfStudyRelatedSeries',
      ]);
      assert.equal(r.code, 0, r.out);
      assert.equal(r.matches, 1);
      assert.match(r.out, new RegExp(`\\(0020,000d\\) UI \\[${A.replace(/\./g, '\\.')}`));
      assert.match(r.out, /\(0008,0061\) CS \[CT\\MR/);
      assert.match(r.out, /\(0020,1208\) IS \[5/);
      assert.match(r.out, /\(0020,1206\) IS \[2/);
      assert.match(r.out, /\(0008,0054\) AE \[DICOM_EDGE\]/);
    });

    it('STUDY: date ranges (closed and open) and a UID list', async () => {
      const closed = await findscu(box.port, [
        '-S',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'StudyDate=20250101-20251231',
        '-k',
        'PatientID',
      ]);
      assert.equal(closed.matches, 1);
      assert.match(closed.out, /\[P2\]/);
      const open = await findscu(box.port, [
        '-S',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'StudyDate=-20241231',
        '-k',
        'PatientID',
      ]);
      assert.equal(open.matches, 1);
      assert.match(open.out, /\[P3\]/);
      const list = await findscu(box.port, [
        '-S',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${A}\\${C}`,
      ]);
      assert.equal(list.matches, 2);
    });

    it('Patient Root, PATIENT: a non-ASCII (ISO_IR 192) name matched and returned in UTF-8', async () => {
      const r = await findscu(box.port, [
        '-P',
        '-k',
        'QueryRetrieveLevel=PATIENT',
        '-k',
        'SpecificCharacterSet=ISO_IR 192',
        '-k',
        'PatientName=Müller*',
        '-k',
        'PatientID',
        '-k',
        'NumberOfPatientRelatedStudies',
      ]);
      assert.equal(r.matches, 1, r.out);
      assert.match(r.out, /\(0008,0005\) CS \[ISO_IR 192\]/);
      assert.match(r.out, /\(0010,0010\) PN \[Müller\^Jürgen/);
      assert.match(r.out, /\(0020,1200\) IS \[1/);
    });

    it('Patient Root STUDY, Study Root SERIES and IMAGE levels', async () => {
      const studies = await findscu(box.port, [
        '-P',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'PatientID=P1',
        '-k',
        'StudyInstanceUID',
      ]);
      assert.equal(studies.matches, 1);
      const series = await findscu(box.port, [
        '-S',
        '-k',
        'QueryRetrieveLevel=SERIES',
        '-k',
        `StudyInstanceUID=${A}`,
        '-k',
        'SeriesInstanceUID',
        '-k',
        'Modality',
        '-k',
        'NumberOfSeriesRelatedInstances',
      ]);
      assert.equal(series.matches, 2);
      assert.match(series.out, /\(0008,0060\) CS \[MR/);
      const images = await findscu(box.port, [
        '-S',
        '-k',
        'QueryRetrieveLevel=IMAGE',
        '-k',
        `StudyInstanceUID=${A}`,
        '-k',
        `SeriesInstanceUID=${A}.1`,
        '-k',
        'SOPInstanceUID',
        '-k',
        'InstanceNumber=2',
      ]);
      assert.equal(images.matches, 1);
      assert.match(images.out, new RegExp(`\\[${A.replace(/\./g, '\\.')}\\.1\\.2`));
    });

    it('bad identifiers: no level, an unknown level, a key below the level -> A900 with a comment', async () => {
      for (const args of [
        ['-k', 'PatientName=X'],
        ['-k', 'QueryRetrieveLevel=FOO'],
        ['-k', 'QueryRetrieveLevel=STUDY', '-k', 'SeriesInstanceUID'],
        ['-k', 'QueryRetrieveLevel=PATIENT'], // no PATIENT level in Study Root
      ]) {
        const r = await findscu(box.port, ['-S', ...args]);
        assert.equal(r.matches, 0);
        assert.match(
          r.out,
          /Final Find Response \(Error: DataSetDoesNotMatchSOPClass\)|a900/i,
          args.join(' '),
        );
      }
    });
  });

  it('C-FIND: a C-CANCEL right behind the request ends it with FE00', async () => {
    const association = await Association.request({
      connect: tcpConnector('127.0.0.1', box.port),
      callingAeTitle: 'CANCELLER',
      calledAeTitle: 'DICOM_EDGE',
      maxPduLength: 16384,
      artimMs: 5000,
      presentationContexts: [
        {
          id: 1,
          abstractSyntax: QR_SOP_CLASSES.studyRootFind,
          transferSyntaxes: ['1.2.840.10008.1.2.1'],
        },
      ],
    });
    try {
      const requestor = new DimseRequestor(association);
      const pending: number[] = [];
      const answer = requestor.request(
        1,
        {
          commandField: CommandField.CFindRq,
          affectedSopClassUid: QR_SOP_CLASSES.studyRootFind,
          priority: 0,
        },
        encodeDataset(identifierFrom(['PatientID', 'StudyInstanceUID'], 'STUDY'), {
          explicitVr: true,
          littleEndian: true,
        }),
        (p) => pending.push(p.command.status ?? 0),
      );
      await requestor.channel.send(1, {
        commandField: CommandField.CCancelRq,
        messageIdBeingRespondedTo: 1,
        hasDataSet: false,
      });
      const final = await answer;
      assert.equal(final.command.status, 0xfe00);
      assert.ok(pending.length < 3, 'stopped before all three studies were sent');
    } finally {
      await association.release();
    }
  });

  describe('C-MOVE with DCMTK movescu', () => {
    for (const [level, keys, expected] of [
      ['STUDY', ['-k', `StudyInstanceUID=${A}`], 5],
      ['SERIES', ['-k', `StudyInstanceUID=${A}`, '-k', `SeriesInstanceUID=${A}.2`], 2],
      [
        'IMAGE',
        [
          '-k',
          `StudyInstanceUID=${A}`,
          '-k',
          `SeriesInstanceUID=${A}.1`,
          '-k',
          `SOPInstanceUID=${A}.1.3`,
        ],
        1,
      ],
    ] as const) {
      it(`${level} level to storescp: received data sets byte-identical`, async () => {
        // storescp names files by SOP Instance UID: start from an empty folder.
        for (const f of await listFiles(scp.dir)) await fs.rm(f);
        const r = await run('movescu', [
          '-v',
          '-S',
          '-aec',
          'DICOM_EDGE',
          '-aem',
          'STORESCP',
          '127.0.0.1',
          String(box.port),
          '-k',
          `QueryRetrieveLevel=${level}`,
          ...keys,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout + r.stderr, /Final Move Response \(Success\)/);
        const received = await listFiles(scp.dir);
        assert.equal(received.length, expected);
        await assertIdentical(received, sent);
      });
    }

    it('an unknown move destination -> A801', async () => {
      const r = await run('movescu', [
        '-v',
        '-S',
        '-aec',
        'DICOM_EDGE',
        '-aem',
        'NOWHERE',
        '127.0.0.1',
        String(box.port),
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${A}`,
      ]);
      assert.match(r.stdout + r.stderr, /MoveDestinationUnknown|a801/i);
    });

    it('a cancel during a move to a slow destination -> FE00 with consistent counts', async () => {
      const r = await run('movescu', [
        '-d',
        '-S',
        '--cancel',
        '1',
        '-aec',
        'DICOM_EDGE',
        '-aem',
        'SLOWSCP',
        '127.0.0.1',
        String(box.port),
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${A}`,
      ]);
      const out = r.stdout + r.stderr;
      const final = out.slice(out.indexOf('Received Final Move Response'));
      assert.match(final, /DIMSE Status\s*: 0xfe00/i, out.slice(-3000));
      const count = (name: string): number =>
        Number(new RegExp(`${name}\\s*:\\s*(\\d+)`, 'i').exec(final)?.[1] ?? NaN);
      const remaining = count('Remaining Suboperations');
      const completed = count('Completed Suboperations');
      const failed = count('Failed Suboperations');
      const warning = count('Warning Suboperations');
      assert.equal(remaining + completed + failed + warning, 5, final);
      assert.ok(remaining >= 1, 'stopped before the end');
    });
  });

  it('C-GET with DCMTK getscu at study level: files byte-identical', async () => {
    const out = tempDir('getscu');
    const r = await run('getscu', [
      '-v',
      '-S',
      '-aec',
      'DICOM_EDGE',
      '-od',
      out,
      '127.0.0.1',
      String(box.port),
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${A}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const files = await listFiles(out);
    assert.equal(files.length, 5);
    await assertIdentical(files, sent);
  });

  describe('with Orthanc', () => {
    let orthanc: OrthancPeer;
    before(async () => {
      orthanc = await startOrthanc({
        dicomPort: orthancDicomPort,
        modalities: { box: { ae: 'DICOM_EDGE', host: '127.0.0.1', port: box.port } },
      });
    });
    after(async () => orthanc.stop());

    it('Orthanc queries the box and moves a study from it through its REST API', async () => {
      const query = JSON.parse(
        (
          await orthanc.rest(
            'POST',
            '/modalities/box/query',
            JSON.stringify({
              Level: 'Study',
              Query: { PatientName: 'ANDERSON*', StudyInstanceUID: '' },
            }),
          )
        ).toString(),
      ) as { ID: string };
      const answers = JSON.parse(
        (await orthanc.rest('GET', `/queries/${query.ID}/answers?expand`)).toString(),
      ) as Array<Record<string, { Value: string }>>;
      assert.equal(answers.length, 1);
      assert.equal(answers[0]!['0020,000d']!.Value, A);
      await orthanc.rest(
        'POST',
        '/modalities/box/move',
        JSON.stringify({
          Level: 'Study',
          Resources: [{ StudyInstanceUID: A }],
          TargetAet: orthanc.ae,
        }),
      );
      await waitFor('5 instances in Orthanc', async () => (await orthanc.instanceCount()) === 5);
      const file = await orthanc.fileOf(`${A}.2.1`);
      assert.deepEqual(
        file!.subarray(parsePart10Header(file!).datasetOffset),
        await datasetBytes(sent.bySop.get(`${A}.2.1`)!),
      );
    });

    it('our find, move and get against Orthanc as the SCP', async () => {
      const peer = {
        host: '127.0.0.1',
        port: orthanc.dicomPort,
        callingAeTitle: 'DICOM_EDGE',
        calledAeTitle: orthanc.ae,
      };
      const matches: number[] = [];
      const { status } = await findScu(
        peer,
        'study',
        identifierFrom(['PatientName=ANDERSON*', 'StudyInstanceUID'], 'STUDY'),
        (e) => matches.push(e.length),
      );
      assert.equal(status, 0);
      assert.equal(matches.length, 1);
      // Orthanc moves to the box (its modality "box"): the box stores what it already has.
      const moved = await moveScu(
        peer,
        'study',
        'DICOM_EDGE',
        identifierFrom([`StudyInstanceUID=${A}`], 'STUDY'),
      );
      assert.equal(moved.status, 0, moved.errorComment);
      assert.equal(moved.counts.completed, 5);
      const out = tempDir('get-orthanc');
      const got = await getScu(
        peer,
        'study',
        identifierFrom([`StudyInstanceUID=${A}`, `SeriesInstanceUID=${A}.1`], 'SERIES'),
        out,
      );
      assert.equal(got.status, 0, got.errorComment);
      const files = await listFiles(out);
      assert.equal(files.length, 3);
      await assertIdentical(files, sent);
    });
  });
});
