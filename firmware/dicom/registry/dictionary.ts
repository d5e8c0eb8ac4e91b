// The DICOM data dictionary (PS3.6 Table 6-1): VR and keyword by tag, tag by keyword.
// Source: the @iwharris/dicom-data-dictionary package, generated from the published
// standard (its `revision`, 2019e); tags added to the standard since then are unknown
// here and are treated as UN where a VR is needed, which the standard allows.
import { elements, revision } from '@iwharris/dicom-data-dictionary';

export interface DictionaryEntry {
  readonly vr: string;
  readonly keyword: string;
  readonly retired: boolean;
}

export const DICTIONARY_REVISION = revision;

const exact = new Map<number, DictionaryEntry>();
/** Repeating-group entries such as (60xx,3000): matched as (tag & mask) === value. */
const repeating: Array<{ mask: number; value: number; entry: DictionaryEntry }> = [];
const byKeyword = new Map<string, number>();

for (const e of Object.values(elements)) {
  const hex = e.tag.replace(/[(),]/g, '');
  if (!/^[0-9A-Fa-fx]{8}$/.test(hex) || !e.keyword) continue;
  const entry: DictionaryEntry = { vr: e.vr, keyword: e.keyword, retired: e.isRetired };
  if (/x/i.test(hex)) {
    const mask = parseInt(hex.replace(/[0-9A-Fa-f]/g, 'F').replace(/x/gi, '0'), 16) >>> 0;
    const value = parseInt(hex.replace(/x/gi, '0'), 16) >>> 0;
    repeating.push({ mask, value, entry });
  } else {
    const tag = parseInt(hex, 16) >>> 0;
    exact.set(tag, entry);
    byKeyword.set(e.keyword, tag);
  }
}

export function lookupTag(tag: number): DictionaryEntry | undefined {
  const hit = exact.get(tag >>> 0);
  if (hit) return hit;
  for (const r of repeating) if ((tag & r.mask) >>> 0 === r.value) return r.entry;
  return undefined;
}

export function tagForKeyword(keyword: string): number | undefined {
  return byKeyword.get(keyword);
}
