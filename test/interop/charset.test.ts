// Names in the character sets of PS3.5 Annexes H-K, from DCMTK and dcmjs-dimse: stored by
// storescu, indexed as text, found by findscu with queries written by dump2dcm in ISO 2022
// (with a redundant escape, as some SCUs write them) and by dcmjs-dimse in UTF-8, and
// answered in UTF-8 with Specific Character Set ISO_IR 192.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { listFiles, run, startBox, tempDir, type TestBox, storescu } from '../support/peers';
import { uid, writeSyntheticFile } from '../support/synthetic';
import { JAPANESE_H31, KOREAN_I2 } from '../support/charset-examples';

/* eslint-disable @typescript-eslint/no-require-imports */
const dimse = require('dcmjs-dimse') as {
  Client: new () => {
    addRequest(r: unknown): void;
    on(event: string, listener: (...args: never[]) => void): void;
    send(host: string, port: number, calling: string, called: string): void;
  };
  requests: {
    CFindRequest: {
      createStudyFindRequest(elements: Record<string, unknown>): {
        on(
          event: 'response',
          listener: (r: {
            getStatus(): number;
            hasDataset(): boolean;
            getDataset(): { getElement(name: string): unknown };
          }) => void,
        ): void;
      };
    };
  };
};
/* eslint-enable @typescript-eslint/no-require-imports */

const ESC = '\x1b';
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
/** A value's bytes padded to even length with a space, as PN values are (PS3.5 §6.2). */
const even = (b: Buffer): Buffer => (b.length % 2 ? Buffer.concat([b, Buffer.from(' ')]) : b);

const PATIENTS = [
  {
    id: 'JP',
    charset: '\\ISO 2022 IR 87',
    bytes: JAPANESE_H31,
    text: 'Yamada^Tarou=山田^太郎=やまだ^たろう',
  },
  {
    id: 'KR',
    charset: '\\ISO 2022 IR 149',
    bytes: KOREAN_I2,
    text: 'Hong^Gildong=洪^吉洞=홍^길동',
  },
  {
    id: 'CN',
    charset: '\\ISO 2022 IR 58',
    bytes: latin1(`Zhang^XiaoDong=${ESC}$)A\xd5\xc5^${ESC}$)A\xd0\xa1\xb6\xab=`),
    text: 'Zhang^XiaoDong=张^小东=',
  },
  { id: 'FR', charset: 'ISO_IR 100', bytes: latin1('Buc^J\xe9r\xf4me'), text: 'Buc^Jérôme' },
];

describe('character sets: ISO 2022 names stored, indexed and queried (PS3.5 Annexes H-K)', function () {
  this.timeout(120_000);
  let box: TestBox;
  let dir: string;

  before(async () => {
    box = await startBox();
    dir = tempDir('charset');
    const files: string[] = [];
    for (const [i, p] of PATIENTS.entries()) {
      const file = path.join(dir, `${p.id}.dcm`);
      await writeSyntheticFile(file, {
        studyUid: uid(600 + i),
        seriesUid: uid(600 + i, 1),
        sopInstanceUid: uid(600 + i, 1, 1),
        patientId: p.id,
        patientName: even(p.bytes),
        charset: p.charset,
      });
      files.push(file);
    }
    await storescu(box.port, files);
  });
  after(async () => box.stop());

  it('indexes each name as its text, every component group decoded', async () => {
    for (const [i, p] of PATIENTS.entries()) {
      const row = await box.archive.instance(uid(600 + i, 1, 1));
      assert.equal(row?.patientName, p.text, p.id);
    }
  });

  /** findscu with a query file written by dump2dcm; returns the responses' data sets. */
  async function findscu(charset: string, name: Buffer): Promise<Buffer[]> {
    const query = tempDir('query');
    const dump = Buffer.concat([
      latin1(`(0008,0005) CS [${charset}]\n(0008,0052) CS [STUDY]\n(0010,0010) PN [`),
      name,
      latin1(']\n(0010,0020) LO []\n(0020,000d) UI []\n'),
    ]);
    await fs.writeFile(path.join(query, 'q.dump'), dump);
    const made = await run('dump2dcm', [path.join(query, 'q.dump'), path.join(query, 'q.dcm')]);
    assert.equal(made.code, 0, made.stderr);
    const out = path.join(query, 'out');
    await fs.mkdir(out);
    const r = await run('findscu', [
      '-S',
      '-X',
      '-od',
      out,
      '-aec',
      'DICOM_EDGE',
      '127.0.0.1',
      String(box.port),
      path.join(query, 'q.dcm'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    return Promise.all(
      (await listFiles(out)).map(async (f) => {
        const b = await fs.readFile(f);
        return b.subarray(parsePart10Header(b).datasetOffset);
      }),
    );
  }

  it('findscu, ideographic group in ISO 2022 IR 87 with a redundant escape: one match, answered in UTF-8 with ISO_IR 192', async () => {
    const [match, ...more] = await findscu(
      '\\ISO 2022 IR 87',
      latin1(`${ESC}(B${ESC}$B;3ED${ESC}(B^${ESC}$BB@O:${ESC}(B`),
    );
    assert.equal(more.length, 0);
    assert.ok(match!.includes(Buffer.from('ISO_IR 192')), 'Specific Character Set ISO_IR 192');
    assert.ok(match!.includes(Buffer.from(PATIENTS[0]!.text, 'utf8')), 'the name in UTF-8');
    assert.ok(!match!.includes(Buffer.from([0x1b])), 'no escape sequences left');
  });

  it('findscu, the hangul group in ISO 2022 IR 149 and Latin-1 in ISO_IR 100: one match each', async () => {
    const korean = await findscu(
      '\\ISO 2022 IR 149',
      latin1(`${ESC}$)C\xc8\xab^${ESC}$)C\xb1\xe6\xb5\xbf`),
    );
    assert.equal(korean.length, 1);
    assert.ok(korean[0]!.includes(Buffer.from('KR')));
    const french = await findscu('ISO_IR 100', latin1('BUC^J\xe9r\xf4me'));
    assert.equal(french.length, 1, 'case-insensitive for the ASCII letters');
    assert.ok(french[0]!.includes(Buffer.from('Buc^Jérôme', 'utf8')));
  });

  it('dcmjs-dimse, UTF-8 (ISO_IR 192): an ideographic query and an alphabetic wildcard', async () => {
    async function find(name: string): Promise<string[]> {
      return new Promise((resolve, reject) => {
        const ids: string[] = [];
        let answered = false;
        const client = new dimse.Client();
        const request = dimse.requests.CFindRequest.createStudyFindRequest({
          SpecificCharacterSet: 'ISO_IR 192',
          PatientName: name,
          PatientID: '',
        });
        request.on('response', (r) => {
          // Pending: FF00, or FF01 as dcmjs-dimse asks for keys the box does not hold.
          if (r.hasDataset() && (r.getStatus() & 0xfffe) === 0xff00)
            ids.push(String(r.getDataset().getElement('PatientID')));
          if (r.getStatus() === 0) answered = true;
        });
        client.addRequest(request);
        // dcmjs-dimse reports a write to the closed socket after the release; by then the
        // final response has come.
        client.on('networkError', ((e: Error) => (answered ? resolve(ids) : reject(e))) as never);
        client.on('closed', (() => resolve(ids)) as never);
        client.send('127.0.0.1', box.port, 'DCMJS', 'DICOM_EDGE');
      });
    }
    assert.deepEqual(await find('山田^太郎'), ['JP']);
    assert.deepEqual(await find('張*'), []);
    assert.deepEqual(await find('Zhang*'), ['CN']);
    assert.deepEqual(await find('홍^길동'), ['KR']);
  });
});
