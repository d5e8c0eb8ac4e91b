// Identifiers to index queries (PS3.4 C.2.2.2, C.4.1.2.2) and queries to SQL: values
// only ever travel as bound parameters.
import { strict as assert } from 'node:assert';
import type { Element } from '../../firmware/dicom/dataset/dataset-writer';
import { interpretIdentifier, QueryError } from '../../firmware/services/qr/identifier';
import { compileQuery } from '../../storage/query';

const el = (tag: number, vr: string, value: string): Element => ({
  tag,
  vr,
  value: Buffer.from(value, 'utf8'),
});
const LEVEL = (l: string): Element => el(0x00080052, 'CS', l);

describe('query identifiers and SQL', () => {
  it('turns each matching kind into a condition', () => {
    const q = interpretIdentifier(
      [
        LEVEL('STUDY'),
        el(0x00100010, 'PN', 'doe*'),
        el(0x00080020, 'DA', '20250101-'),
        el(0x00080030, 'TM', '-1200'),
        el(0x0020000d, 'UI', '1.2.3\\1.2.4'),
        el(0x00080061, 'CS', 'CT\\MR'),
        el(0x00080050, 'SH', ''),
        el(0x00100020, 'LO', '*'),
      ],
      'study',
      'find',
    );
    assert.equal(q.level, 'STUDY');
    assert.deepEqual(q.conditions, [
      { kind: 'range', column: 'studyDate', from: '20250101' },
      { kind: 'range', column: 'studyTime', to: '1200~' },
      { kind: 'study-has-modality', values: ['CT', 'MR'] },
      { kind: 'person-name', column: 'patientName', pattern: 'doe*' },
      { kind: 'list', column: 'studyInstanceUid', values: ['1.2.3', '1.2.4'] },
    ]);
    assert.equal(q.returnKeys.length, 7);
  });

  const refusals: Array<[string, Element[], 'patient' | 'study', 'find' | 'retrieve', RegExp]> = [
    ['no level', [el(0x00100010, 'PN', 'X')], 'study', 'find', /Level \(0008,0052\) is missing/],
    ['an unknown level', [LEVEL('FOO')], 'study', 'find', /unknown Query\/Retrieve Level/],
    ['PATIENT in Study Root', [LEVEL('PATIENT')], 'study', 'find', /no PATIENT level/],
    [
      'a key below the level',
      [LEVEL('STUDY'), el(0x0020000e, 'UI', '')],
      'patient',
      'find',
      /^SeriesInstanceUID is a SERIES key; the query is at STUDY$/,
    ],
    [
      'a retrieve without the unique key',
      [LEVEL('SERIES'), el(0x0020000d, 'UI', '1.2')],
      'study',
      'retrieve',
      /unique key/,
    ],
  ];
  for (const [what, elements, model, purpose, message] of refusals) {
    it(`refuses ${what} with A900`, () => {
      assert.throws(
        () => interpretIdentifier(elements, model, purpose),
        (e: unknown) => e instanceof QueryError && e.status === 0xa900 && message.test(e.message),
      );
    });
  }

  it('keeps identifier values out of the SQL text, escapes LIKE and GLOB specials', () => {
    const evil = "x' OR '1'='1";
    const q = compileQuery({
      level: 'STUDY',
      conditions: [
        { kind: 'equal', column: 'patientId', value: evil, ignoreCase: false },
        { kind: 'wildcard', column: 'patientName', pattern: '50%_o\\ff*', ignoreCase: true },
        { kind: 'wildcard', column: 'accessionNumber', pattern: 'A[1]*', ignoreCase: false },
      ],
      select: ['studyInstanceUid'],
    });
    assert.ok(!q.sql.includes(evil) && !q.sql.includes('50%'));
    assert.deepEqual(q.params, [evil, '50\\%\\_o\\\\ff%', 'A[[]1[]]*']);
  });

  it('matches a person name whole or by any component group, with its LIKE specials escaped', () => {
    const q = compileQuery({
      level: 'PATIENT',
      conditions: [{ kind: 'person-name', column: 'patientName', pattern: '山田^太_%*' }],
      select: ['patientId'],
    });
    assert.match(q.sql, /\('=' \|\| p\.patient_name \|\| '='\) LIKE \? ESCAPE/);
    assert.deepEqual(q.params, ['%=山田^太\\_\\%%=%']);
  });

  it('refuses a column below the query level', () => {
    assert.throws(
      () => compileQuery({ level: 'STUDY', conditions: [], select: ['sopInstanceUid'] }),
      /below the STUDY level/,
    );
  });
});
