// One answer of the worklist source (a C-FIND pending response's identifier) made into an
// item of the copy: the identifier as sent (re-encoded in Explicit VR Little Endian, its
// values' bytes untouched, in the item's own character set), the values matched on as
// text, who the item is across replications, and a digest that tells a change. An answer
// the copy cannot use is refused with the reason, and the replication goes on without it.
import { createHash } from 'node:crypto';
import { decodeText } from '../dicom/dataset/charset';
import { encodeDataset, type Element } from '../dicom/dataset/dataset-writer';
import { Tag } from '../dicom/registry/tags';
import { trimUid } from '../dicom/registry/uid';
import type { WorklistItemRecord } from '../../storage/worklist';
import { WORKLIST_ATTRIBUTES, type WorklistValues } from '../../storage/worklist-attributes';

/** An item larger than this is no worklist item: refused, so a batch's memory stays small. */
export const MAX_ITEM_BYTES = 64 * 1024;

const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

/** An answer that is no usable worklist item; the reason says why. */
export class MalformedItemError extends Error {
  override name = 'MalformedItemError';
}

/** The item's Specific Character Set (0008,0005), as its raw value says it. */
export function charsetOf(elements: readonly Element[]): string {
  const e = elements.find((x) => x.tag === Tag.SpecificCharacterSet);
  return Buffer.isBuffer(e?.value) ? e.value.toString('latin1').trim() : '';
}

/** An element's value as text (UIDs without their padding), '' when absent or a sequence. */
export function textOf(element: Element | undefined, charset: string): string {
  if (!element || !Buffer.isBuffer(element.value)) return '';
  return element.vr === 'UI'
    ? trimUid(element.value.toString('latin1'))
    : decodeText(element.value, charset).trim();
}

/** The Scheduled Procedure Step Sequence's first item (K.6.1.2.2: an answer has one). */
export function stepOf(elements: readonly Element[]): readonly Element[] | undefined {
  const sps = elements.find((e) => e.tag === Tag.ScheduledProcedureStepSequence);
  return Array.isArray(sps?.value) ? (sps.value as readonly (readonly Element[])[])[0] : undefined;
}

export function itemFromIdentifier(elements: readonly Element[]): WorklistItemRecord {
  const step = stepOf(elements);
  if (!step)
    throw new MalformedItemError('no item in its Scheduled Procedure Step Sequence (0040,0100)');
  const charset = charsetOf(elements);
  const at = {
    item: new Map(elements.map((e) => [e.tag, e])),
    step: new Map(step.map((e) => [e.tag, e])),
  };
  const values = Object.fromEntries(
    WORKLIST_ATTRIBUTES.map((a) => [a.name, textOf(at[a.level].get(a.tag), charset)]),
  ) as WorklistValues;
  if (values.patientId === '' && values.patientName === '')
    throw new MalformedItemError("neither Patient ID nor Patient's Name");
  // Group lengths would not be true of the re-encoding; everything else is kept as sent.
  const kept = elements.filter((e) => (e.tag & 0xffff) !== 0).sort((a, b) => a.tag - b.tag);
  const dataset = encodeDataset(kept, EXPLICIT_LE);
  if (dataset.length > MAX_ITEM_BYTES)
    throw new MalformedItemError(`${dataset.length} bytes, more than ${MAX_ITEM_BYTES}`);
  const digest = createHash('sha256').update(dataset).digest('hex');
  return { key: keyOf(values, digest), digest, dataset, specificCharacterSet: charset, values };
}

/**
 * Who an item is across replications: its Study Instance UID, Accession Number, Requested
 * Procedure ID and Scheduled Procedure Step ID (what a RIS keeps when it changes the
 * patient's details or the time); an item with none of them is known by its content.
 */
function keyOf(values: WorklistValues, digest: string): string {
  const ids = [
    values.studyInstanceUid,
    values.accessionNumber,
    values.requestedProcedureId,
    values.spsId,
  ];
  if (ids.every((v) => v === '')) return `content:${digest}`;
  return `ids:${createHash('sha256').update(JSON.stringify(ids)).digest('hex')}`;
}
