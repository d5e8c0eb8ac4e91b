// Matching a worklist item's values against a modality's keys (PS3.4 C.2.2.2, as K.6.1.2.1
// asks of a Modality Worklist SCP): single value and wildcard matching (* and ?; case
// sensitive but for person names), UID lists, date and time ranges, the Scheduled Procedure
// Step's start date and time as one date-time range when both are ranges (C.2.2.2.5.1).
// An item's attribute of several values (a step scheduled on "CT1\CT2") matches when one
// of them does. Pure: the SCP (mwl-scp.ts) gives each item of the copy to `matches`.
import type { WorklistAttributeName, WorklistValues } from '../../storage/worklist-attributes';

export type MwlCondition =
  /** Exact, or with * and ?, case sensitive. */
  | { readonly kind: 'text'; readonly field: WorklistAttributeName; readonly pattern: string }
  /** A person name: whole, or any of its component groups, without regard to case. */
  | { readonly kind: 'pn'; readonly field: WorklistAttributeName; readonly pattern: string }
  | {
      readonly kind: 'uid';
      readonly field: WorklistAttributeName;
      readonly values: readonly string[];
    }
  /** A date or a time: one value, or a range open at either end. */
  | {
      readonly kind: 'range';
      readonly field: WorklistAttributeName;
      readonly single?: string;
      readonly from?: string;
      readonly to?: string;
    }
  /** The step's start date and time together, "YYYYMMDDHHMMSS" bounds (C.2.2.2.5.1). */
  | { readonly kind: 'step-datetime'; readonly from?: string; readonly to?: string };

/** * and ? to a regular expression of the whole value. */
function glob(pattern: string): string {
  return pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
}

const compiled = new Map<string, RegExp>();
function regex(source: string, flags: string): RegExp {
  const key = `${flags}/${source}`;
  let re = compiled.get(key);
  if (!re) {
    if (compiled.size > 1000) compiled.clear();
    re = new RegExp(source, flags);
    compiled.set(key, re);
  }
  return re;
}

/** A value's values (VM > 1 is written "a\b"). */
function valuesOf(value: string): string[] {
  return value.split('\\').map((v) => v.trim());
}

function textMatches(pattern: string, value: string): boolean {
  const re = regex(`^${glob(pattern)}$`, 's');
  return valuesOf(value).some((v) => re.test(v));
}

/** Trailing empty components and groups are not significant (PS3.5 §6.2.1). */
export function normalizePersonName(name: string): string {
  return name
    .split('=')
    .map((group) => group.replace(/[\^ ]+$/, ''))
    .join('=')
    .replace(/=+$/, '');
}

function personNameMatches(pattern: string, value: string): boolean {
  // The whole name, or a run of its component groups (alphabetic = ideographic = phonetic).
  const re = regex(`(?:^|=)${glob(normalizePersonName(pattern))}(?:=|$)`, 'is');
  return valuesOf(value).some((v) => re.test(normalizePersonName(v)));
}

/** Times compare as "HHMMSS.FFFFFF" (the colons of ACR-NEMA's form left out). */
export function normalizeTime(time: string): string {
  return time.replace(/:/g, '');
}

function rangeMatches(
  c: { readonly single?: string; readonly from?: string; readonly to?: string },
  value: string,
): boolean {
  if (c.single !== undefined) return value === c.single;
  if (value === '') return false;
  if (c.from && value < c.from) return false;
  // "~" sorts after every digit: the end of a range covers the whole of its last unit.
  if (c.to && value > `${c.to}~`) return false;
  return true;
}

export function conditionMatches(c: MwlCondition, values: WorklistValues): boolean {
  switch (c.kind) {
    case 'text':
      return textMatches(c.pattern, values[c.field]);
    case 'pn':
      return personNameMatches(c.pattern, values[c.field]);
    case 'uid':
      return c.values.includes(values[c.field]);
    case 'range': {
      const value = values[c.field];
      return rangeMatches(c, c.field === 'spsStartTime' ? normalizeTime(value) : value);
    }
    case 'step-datetime': {
      if (values.spsStartDate === '') return false;
      const at = `${values.spsStartDate}${normalizeTime(values.spsStartTime)}`;
      return rangeMatches(
        { ...(c.from ? { from: c.from } : {}), ...(c.to ? { to: c.to } : {}) },
        at,
      );
    }
  }
}

/** Whether an item matches every condition (no condition: every item). */
export function matches(conditions: readonly MwlCondition[], values: WorklistValues): boolean {
  return conditions.every((c) => conditionMatches(c, values));
}
