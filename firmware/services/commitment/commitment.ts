// Storage Commitment Push Model (PS3.4 Annex J): the UIDs and the report.
import type { Element } from '../../dicom/dataset/dataset-writer';
import { Tag } from '../../dicom/registry/tags';

export const STORAGE_COMMITMENT_SOP_CLASS = '1.2.840.10008.1.20.1';
export const STORAGE_COMMITMENT_INSTANCE = '1.2.840.10008.1.20.1.1';
/** N-ACTION Action Type ID: Request Storage Commitment (J.3.2). */
export const REQUEST_STORAGE_COMMITMENT = 1;
/** N-EVENT-REPORT Event Type IDs (J.3.3): all committed, or some failed. */
export const EVENT_SUCCESS = 1;
export const EVENT_FAILURES = 2;

/** Failure Reason values (PS3.3 C.14.1.1, J.3.3). */
export const FailureReason = {
  ProcessingFailure: 0x0110,
  NoSuchObjectInstance: 0x0112,
  ClassInstanceConflict: 0x0119,
} as const;

export interface CommitmentItem {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
}

export interface Decision {
  readonly committed: readonly CommitmentItem[];
  readonly failed: ReadonlyArray<CommitmentItem & { reason: number }>;
}

function reference(item: CommitmentItem): Element[] {
  return [
    { tag: Tag.ReferencedSopClassUid, vr: 'UI', value: item.sopClassUid },
    { tag: Tag.ReferencedSopInstanceUid, vr: 'UI', value: item.sopInstanceUid },
  ];
}

/** The Action Information of the N-ACTION (Table J.3-1). */
export function actionInformation(
  transactionUid: string,
  items: readonly CommitmentItem[],
): Element[] {
  return [
    { tag: Tag.TransactionUid, vr: 'UI', value: transactionUid },
    { tag: Tag.ReferencedSopSequence, vr: 'SQ', value: items.map(reference) },
  ];
}

/** The Event Information of the N-EVENT-REPORT (Table J.3-2), in tag order. */
export function reportDataset(
  transactionUid: string,
  d: Decision,
): { eventTypeId: number; elements: Element[] } {
  const elements: Element[] = [{ tag: Tag.TransactionUid, vr: 'UI', value: transactionUid }];
  if (d.failed.length > 0) {
    const us = (v: number): Buffer => {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(v);
      return b;
    };
    elements.push({
      tag: Tag.FailedSopSequence,
      vr: 'SQ',
      value: d.failed.map((f) => [
        ...reference(f),
        { tag: Tag.FailureReason, vr: 'US', value: us(f.reason) },
      ]),
    });
  }
  if (d.committed.length > 0) {
    elements.push({ tag: Tag.ReferencedSopSequence, vr: 'SQ', value: d.committed.map(reference) });
  }
  return { eventTypeId: d.failed.length > 0 ? EVENT_FAILURES : EVENT_SUCCESS, elements };
}

/** What an N-EVENT-REPORT of a storage commitment says (Table J.3-2). */
export interface CommitmentReport {
  readonly transactionUid: string;
  readonly committed: string[];
  readonly failed: Array<{ sopInstanceUid: string; reason: number }>;
}

function text(e: Element | undefined): string {
  return Buffer.isBuffer(e?.value) ? e.value.toString('latin1').replace(/[\0 ]+$/, '') : '';
}

function itemsOf(elements: readonly Element[], tag: number): Element[][] {
  const e = elements.find((x) => x.tag === tag);
  return e && Array.isArray(e.value) ? (e.value as Element[][]) : [];
}

/** Reads the Event Information of a storage commitment report (Little Endian values). */
export function readReport(elements: readonly Element[]): CommitmentReport {
  return {
    transactionUid: text(elements.find((e) => e.tag === Tag.TransactionUid)),
    committed: itemsOf(elements, Tag.ReferencedSopSequence).map((i) =>
      text(i.find((e) => e.tag === Tag.ReferencedSopInstanceUid)),
    ),
    failed: itemsOf(elements, Tag.FailedSopSequence).map((i) => {
      const reason = i.find((e) => e.tag === Tag.FailureReason)?.value;
      return {
        sopInstanceUid: text(i.find((e) => e.tag === Tag.ReferencedSopInstanceUid)),
        reason: Buffer.isBuffer(reason) && reason.length === 2 ? reason.readUInt16LE(0) : 0,
      };
    }),
  };
}
