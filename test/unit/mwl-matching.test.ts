// Modality Worklist matching and answers, pure (firmware/worklist/mwl-query.ts,
// mwl-matching.ts, mwl-response.ts): each kind of key of PS3.4 C.2.2.2 as K.6.1.2 uses
// it, and answers that carry exactly the keys asked, values as the source sent them.
import { strict as assert } from 'node:assert';
import type { Element } from '../../firmware/dicom/dataset/dataset-writer';
import { Tag } from '../../firmware/dicom/registry/tags';
import { itemFromIdentifier } from '../../firmware/worklist/mwl-item';
import { matches } from '../../firmware/worklist/mwl-matching';
import { interpretMwlIdentifier } from '../../firmware/worklist/mwl-query';
import { mwlResponse } from '../../firmware/worklist/mwl-response';
import { JAPANESE_H31 } from '../support/charset-examples';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const el = (tag: number, vr: string, value: string | Buffer): Element => ({
  tag,
  vr,
  value: typeof value === 'string' ? latin1(value) : value,
});
const sq = (tag: number, items: Element[][]): Element => ({ tag, vr: 'SQ', value: items });

/** An answer of the source, as parsed: values are bytes. */
function sourceItem(o: {
  name?: string | Buffer;
  charset?: string;
  station?: string;
  date?: string;
  time?: string;
  modality?: string;
  accession?: string;
  study?: string;
}): Element[] {
  return [
    ...(o.charset ? [el(Tag.SpecificCharacterSet, 'CS', o.charset)] : []),
    el(Tag.AccessionNumber, 'SH', o.accession ?? 'ACC1'),
    el(Tag.PatientName, 'PN', o.name ?? 'DOE^JANE'),
    el(Tag.PatientId, 'LO', 'P1'),
    el(Tag.PatientBirthDate, 'DA', '19800101'),
    el(Tag.StudyInstanceUid, 'UI', o.study ?? '1.2.3\0'),
    el(Tag.RequestedProcedureDescription, 'LO', 'CHEST CT'),
    sq(Tag.ScheduledProcedureStepSequence, [
      [
        el(Tag.Modality, 'CS', o.modality ?? 'CT'),
        el(Tag.ScheduledStationAeTitle, 'AE', o.station ?? 'CT1'),
        el(Tag.ScheduledProcedureStepStartDate, 'DA', o.date ?? '20260105'),
        el(Tag.ScheduledProcedureStepStartTime, 'TM', o.time ?? '083000'),
        el(Tag.ScheduledPerformingPhysicianName, 'PN', 'SMITH^ANN'),
        el(Tag.ScheduledProcedureStepId, 'SH', 'SPS1'),
        sq(Tag.ScheduledProtocolCodeSequence, [[el(0x00080100, 'SH', 'C1')]]),
      ],
    ]),
  ].sort((a, b) => a.tag - b.tag);
}

/** A modality's identifier: top-level keys, and the step's keys in one item. */
function query(
  top: Array<[number, string, string]>,
  step: Array<[number, string, string]> = [],
): Element[] {
  return [
    ...top.map(([tag, vr, v]) => el(tag, vr, v)),
    sq(Tag.ScheduledProcedureStepSequence, [step.map(([tag, vr, v]) => el(tag, vr, v))]),
  ];
}

function found(q: Element[], item: Element[]): boolean {
  const { conditions } = interpretMwlIdentifier(q);
  return matches(conditions, itemFromIdentifier(item).values);
}

describe('Modality Worklist matching (PS3.4 C.2.2.2, K.6.1.2)', () => {
  it("Patient's Name: wildcards, without regard to case, whole or by component group", () => {
    const jp = sourceItem({ name: JAPANESE_H31, charset: '\\ISO 2022 IR 87' });
    assert.ok(found(query([[Tag.PatientName, 'PN', 'doe*']]), sourceItem({})));
    assert.ok(found(query([[Tag.PatientName, 'PN', 'DOE^JANE^^']]), sourceItem({})));
    assert.ok(!found(query([[Tag.PatientName, 'PN', 'DOE^J?']]), sourceItem({})));
    assert.ok(found(query([[Tag.PatientName, 'PN', '*']]), sourceItem({})));
    // The ideographic group, asked in UTF-8, finds the item the source sent in ISO 2022 IR 87.
    const utf8 = [
      el(Tag.SpecificCharacterSet, 'CS', 'ISO_IR 192'),
      ...query([[Tag.PatientName, 'PN', '']]),
    ];
    utf8[1] = el(Tag.PatientName, 'PN', Buffer.from('山田^太郎'));
    assert.ok(found(utf8, jp));
  });

  it('Scheduled Station AE Title and Modality in the step, one of several values matching', () => {
    const item = sourceItem({ station: 'CT1\\CT2' });
    assert.ok(found(query([], [[Tag.ScheduledStationAeTitle, 'AE', 'CT2']]), item));
    assert.ok(found(query([], [[Tag.ScheduledStationAeTitle, 'AE', 'CT?']]), item));
    assert.ok(
      !found(query([], [[Tag.ScheduledStationAeTitle, 'AE', 'ct1']]), item),
      'AE titles are case sensitive',
    );
    assert.ok(found(query([], [[Tag.Modality, 'CS', 'CT']]), item));
    assert.ok(!found(query([], [[Tag.Modality, 'CS', 'MR']]), item));
  });

  it('dates and times: single values and ranges open at either end', () => {
    const item = sourceItem({ date: '20260105', time: '083000' });
    const date = (v: string): Element[] =>
      query([], [[Tag.ScheduledProcedureStepStartDate, 'DA', v]]);
    assert.ok(found(date('20260105'), item));
    assert.ok(found(date('20260101-20260105'), item));
    assert.ok(found(date('20260105-'), item));
    assert.ok(found(date('-20260105'), item));
    assert.ok(!found(date('20260106-'), item));
    const time = (v: string): Element[] =>
      query([], [[Tag.ScheduledProcedureStepStartTime, 'TM', v]]);
    assert.ok(found(time('0800-0830'), item), 'the end of a range covers its last minute');
    assert.ok(!found(time('0831-'), item));
    assert.ok(found(time('08:00-09:00'), item));
  });

  it('start date and time both ranges are one date-time range (C.2.2.2.5.1)', () => {
    const night = [
      [Tag.ScheduledProcedureStepStartDate, 'DA', '20260105-20260106'],
      [Tag.ScheduledProcedureStepStartTime, 'TM', '2200-0600'],
    ] as Array<[number, string, string]>;
    assert.ok(found(query([], night), sourceItem({ date: '20260105', time: '233000' })));
    assert.ok(found(query([], night), sourceItem({ date: '20260106', time: '013000' })));
    // Matched one by one, no time is in "2200-0600": together they are the night.
    assert.ok(!found(query([], night), sourceItem({ date: '20260105', time: '083000' })));
    assert.ok(!found(query([], night), sourceItem({ date: '20260106', time: '070000' })));
  });

  it('Accession Number exact, Study Instance UID by list, an unknown key universal (FF01)', () => {
    assert.ok(found(query([[Tag.AccessionNumber, 'SH', 'ACC1']]), sourceItem({})));
    assert.ok(!found(query([[Tag.AccessionNumber, 'SH', 'ACC']]), sourceItem({})));
    assert.ok(found(query([[Tag.StudyInstanceUid, 'UI', '9.9\\1.2.3']]), sourceItem({})));
    const partly = interpretMwlIdentifier(query([[Tag.PatientWeight, 'DS', '70']]));
    assert.equal(partly.partly, true, 'held but not matched on');
    assert.equal(
      interpretMwlIdentifier(query([[Tag.StudyDate, 'DA', '']])).partly,
      true,
      'not held',
    );
    assert.equal(interpretMwlIdentifier(query([[Tag.PatientName, 'PN', '']])).partly, false);
  });

  it('the pages read are those of the start dates asked', () => {
    const q = interpretMwlIdentifier(
      query([], [[Tag.ScheduledProcedureStepStartDate, 'DA', '20260105']]),
    );
    assert.deepEqual(q.dates, { from: '20260105', to: '20260105' });
    const open = interpretMwlIdentifier(
      query([], [[Tag.ScheduledProcedureStepStartDate, 'DA', '20260105-']]),
    );
    assert.deepEqual(open.dates, { from: '20260105' });
  });
});

describe('Modality Worklist answers (PS3.4 K.6.1.2.2, C.2.2.1.1)', () => {
  it('carry the keys asked, the item’s bytes and its character set, the step shaped by its keys', () => {
    const stored = sourceItem({ name: JAPANESE_H31, charset: '\\ISO 2022 IR 87' });
    const keys = query(
      [
        [Tag.PatientName, 'PN', ''],
        [Tag.PatientId, 'LO', ''],
        [Tag.AdmissionId, 'LO', ''],
      ],
      [
        [Tag.ScheduledStationAeTitle, 'AE', ''],
        [Tag.ScheduledProcedureStepStartDate, 'DA', ''],
      ],
    );
    const answer = mwlResponse(keys, stored);
    assert.deepEqual(
      answer.map((e) => e.tag),
      [
        Tag.SpecificCharacterSet,
        Tag.PatientName,
        Tag.PatientId,
        Tag.AdmissionId,
        Tag.ScheduledProcedureStepSequence,
      ],
    );
    assert.ok((answer[1]!.value as Buffer).equals(JAPANESE_H31), 'the name as the source sent it');
    assert.equal(answer[3]!.value, '', 'absent from the item: empty');
    const step = (answer[4]!.value as Element[][])[0]!;
    assert.deepEqual(
      step.map((e) => e.tag),
      [Tag.ScheduledStationAeTitle, Tag.ScheduledProcedureStepStartDate],
    );
  });

  it('a sequence asked for empty comes back whole', () => {
    const stored = sourceItem({});
    const keys = [sq(Tag.ScheduledProcedureStepSequence, [])];
    const [sps] = mwlResponse(keys, stored);
    const step = (sps!.value as Element[][])[0]!;
    assert.ok(step.some((e) => e.tag === Tag.ScheduledProtocolCodeSequence));
    assert.equal(step.length, 7);
  });
});
