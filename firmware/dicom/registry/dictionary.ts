// The DICOM data dictionary (PS3.6 Table 6-1): VR and keyword by tag, tag by keyword.
// Source: the @iwharris/dicom-data-dictionary package, generated from the published
// standard (its `revision`, 2019e); tags added to the standard since then are unknown
// here and are treated as UN where a VR is needed, which the standard allows.
export interface DictionaryEntry {
  readonly vr: string;
  readonly keyword: string;
  readonly retired: boolean;
}

interface Tables {
  readonly revision: string;
  readonly exact: Map<number, DictionaryEntry>;
  /** Repeating-group entries such as (60xx,3000): matched as (tag & mask) === value. */
  readonly repeating: Array<{ mask: number; value: number; entry: DictionaryEntry }>;
  readonly byKeyword: Map<string, number>;
}

let tables: Tables | undefined;

/**
 * Built on first use: most boxes never transcode, and the dictionary costs several MB of
 * memory that a 1 GB box should not carry for nothing.
 */
function load(): Tables {
  if (tables) return tables;
  // A lazy require, not an import, is the point here (see above).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { elements, revision } =
    require('@iwharris/dicom-data-dictionary') as typeof import('@iwharris/dicom-data-dictionary');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const t: Tables = { revision, exact: new Map(), repeating: [], byKeyword: new Map() };
  for (const e of Object.values(elements)) {
    const hex = e.tag.replace(/[(),]/g, '');
    if (!/^[0-9A-Fa-fx]{8}$/.test(hex) || !e.keyword) continue;
    const entry: DictionaryEntry = { vr: e.vr, keyword: e.keyword, retired: e.isRetired };
    if (/x/i.test(hex)) {
      const mask = parseInt(hex.replace(/[0-9A-Fa-f]/g, 'F').replace(/x/gi, '0'), 16) >>> 0;
      const value = parseInt(hex.replace(/x/gi, '0'), 16) >>> 0;
      t.repeating.push({ mask, value, entry });
    } else {
      const tag = parseInt(hex, 16) >>> 0;
      t.exact.set(tag, entry);
      t.byKeyword.set(e.keyword, tag);
    }
  }
  tables = t;
  return t;
}

export function dictionaryRevision(): string {
  return load().revision;
}

export function lookupTag(tag: number): DictionaryEntry | undefined {
  const t = load();
  const hit = t.exact.get(tag >>> 0);
  if (hit) return hit;
  for (const r of t.repeating) if ((tag & r.mask) >>> 0 === r.value) return r.entry;
  return undefined;
}

export function tagForKeyword(keyword: string): number | undefined {
  return load().byKeyword.get(keyword);
}
