// A modality's MWL C-FIND identifier read as what to match and what to return (PS3.4
// K.6.1.2): the top-level keys and the Scheduled Procedure Step Sequence's one item, each
// with a value a matching key (C.2.2.2), the others return keys. Values are read by the
// identifier's own Specific Character Set and compared as text, so a name asked in ISO 2022
// IR 87 finds one the source sent in UTF-8. A key the copy does not hold, or holds without
// matching on it, is universal, and the answers say so (FF01, PS3.4 K.4.1.3.1).
import type { Element } from '../dicom/dataset/dataset-writer';
import { Tag } from '../dicom/registry/tags';
import { WORKLIST_ATTRIBUTES, type WorklistAttributeName } from '../../storage/worklist-attributes';
import { charsetOf, textOf } from './mwl-item';
import { held, MATCHING } from './mwl-keys';
import { normalizeTime, type MwlCondition } from './mwl-matching';

export interface MwlQuery {
  readonly conditions: readonly MwlCondition[];
  /** The identifier's keys, which shape each answer (mwl-response.ts). */
  readonly keys: readonly Element[];
  /** Some key is not held or not matched on by the copy: answers are FF01, not FF00. */
  readonly partly: boolean;
  /** The steps' start dates the matches can have, to read only those pages of the copy. */
  readonly dates: { readonly from?: string; readonly to?: string };
}

/** The attributes matched on, by level and tag. */
function byTag(level: 'item' | 'step'): ReadonlyMap<number, WorklistAttributeName> {
  const attributes: ReadonlyArray<{ level: string; tag: number; name: WorklistAttributeName }> =
    WORKLIST_ATTRIBUTES;
  return new Map(attributes.filter((a) => a.level === level).map((a) => [a.tag, a.name]));
}
const BY_TAG = { item: byTag('item'), step: byTag('step') } as const;

/** A value "A-B", "A-" or "-B" as a range; one value as itself. */
function range(value: string, time: boolean): { single?: string; from?: string; to?: string } {
  const norm = (v: string): string => (time ? normalizeTime(v.trim()) : v.trim());
  const dash = value.indexOf('-');
  if (dash < 0) return { single: norm(value) };
  const from = norm(value.slice(0, dash));
  const to = norm(value.slice(dash + 1));
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

function conditionFor(field: WorklistAttributeName, value: string): MwlCondition | undefined {
  const matching = MATCHING[field];
  switch (matching) {
    case 'uid': {
      const values = value
        .split('\\')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      return { kind: 'uid', field, values };
    }
    case 'date':
    case 'time':
      return { kind: 'range', field, ...range(value, matching === 'time') };
    case 'pn':
    case 'text':
      // "*" alone is universal matching (C.2.2.2.3).
      if (/^\*+$/.test(value)) return undefined;
      return { kind: matching, field, pattern: value };
  }
}

/** The conditions and how completely the copy answers, from one level's keys. */
function read(
  elements: readonly Element[],
  level: 'item' | 'step',
  charset: string,
  out: { conditions: MwlCondition[]; partly: boolean; step?: readonly Element[] },
): void {
  for (const e of elements) {
    // Group lengths, the character set, and a Query/Retrieve Level some SCUs add: no keys.
    if (
      (e.tag & 0xffff) === 0 ||
      e.tag === Tag.SpecificCharacterSet ||
      e.tag === Tag.QueryRetrieveLevel
    )
      continue;
    if (level === 'item' && e.tag === Tag.ScheduledProcedureStepSequence) {
      const items = Array.isArray(e.value) ? (e.value as readonly (readonly Element[])[]) : [];
      out.step = items[0] ?? [];
      continue;
    }
    if (!held(e.tag, level)) {
      out.partly = true; // not in the copy: returned empty (C.2.2.1.1)
      continue;
    }
    const field = BY_TAG[level].get(e.tag);
    const value = textOf(e, charset);
    if (value === '') continue;
    if (!field) {
      out.partly = true; // held but not matched on: universal
      continue;
    }
    const condition = conditionFor(field, value);
    if (condition) out.conditions.push(condition);
  }
}

export function interpretMwlIdentifier(elements: readonly Element[]): MwlQuery {
  const charset = charsetOf(elements);
  const out: { conditions: MwlCondition[]; partly: boolean; step?: readonly Element[] } = {
    conditions: [],
    partly: false,
  };
  read(elements, 'item', charset, out);
  if (out.step) read(out.step, 'step', charset, out);
  const conditions = combineStepDateTime(out.conditions);
  const date = conditions.find(
    (c): c is Extract<MwlCondition, { kind: 'range' }> =>
      c.kind === 'range' && c.field === 'spsStartDate',
  );
  const combined = conditions.find((c) => c.kind === 'step-datetime');
  const dates =
    date?.single !== undefined
      ? { from: date.single, to: date.single }
      : date
        ? { ...(date.from ? { from: date.from } : {}), ...(date.to ? { to: date.to } : {}) }
        : combined && combined.kind === 'step-datetime'
          ? {
              ...(combined.from ? { from: combined.from.slice(0, 8) } : {}),
              ...(combined.to ? { to: combined.to.slice(0, 8) } : {}),
            }
          : {};
  return { conditions, keys: elements, partly: out.partly, dates };
}

/**
 * Start date and start time both ranges: one date-time range (C.2.2.2.5.1), so that
 * "20260101-20260102" with "2200-0600" means from 22:00 on the 1st to 06:00 on the 2nd.
 */
function combineStepDateTime(conditions: MwlCondition[]): MwlCondition[] {
  const isRange = (
    c: MwlCondition,
    field: WorklistAttributeName,
  ): c is Extract<MwlCondition, { kind: 'range' }> =>
    c.kind === 'range' && c.field === field && c.single === undefined;
  const date = conditions.find((c) => isRange(c, 'spsStartDate'));
  const time = conditions.find((c) => isRange(c, 'spsStartTime'));
  if (!date || !time || date.kind !== 'range' || time.kind !== 'range') return conditions;
  const from = date.from ? `${date.from}${time.from ?? ''}` : undefined;
  const to = date.to ? `${date.to}${time.to ?? ''}` : undefined;
  return [
    ...conditions.filter((c) => c !== date && c !== time),
    { kind: 'step-datetime', ...(from ? { from } : {}), ...(to ? { to } : {}) },
  ];
}
