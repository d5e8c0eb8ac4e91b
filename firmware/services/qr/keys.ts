// DCMTK-style query keys for the command line: "-k 0010,0020=ID", "-k PatientID=ID",
// "-k (0010,0010)=DOE*", "-k StudyInstanceUID" (a return key with no value).
import type { Element } from '../../dicom/dataset/dataset-writer';
import { lookupTag, tagForKeyword } from '../../dicom/registry/dictionary';
import { Tag } from '../../dicom/registry/tags';

export class KeyError extends Error {
  override name = 'KeyError';
}

export function parseKey(spec: string): Element {
  const eq = spec.indexOf('=');
  const name = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  const value = eq < 0 ? '' : spec.slice(eq + 1);
  let tag: number | undefined;
  const hex = /^\(?([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)?$/.exec(name);
  if (hex) tag = parseInt(hex[1]! + hex[2]!, 16) >>> 0;
  else tag = tagForKeyword(name);
  if (tag === undefined)
    throw new KeyError(
      `unknown attribute "${name}" (use a keyword like PatientName or a tag like 0010,0010)`,
    );
  const vr = lookupTag(tag)?.vr ?? 'LO';
  const plainVr = /^[A-Z]{2}$/.test(vr) ? vr : vr.startsWith('US') ? 'US' : 'LO';
  if (plainVr === 'SQ') return { tag, vr: 'SQ', value: [] };
  return { tag, vr: plainVr, value };
}

/** The identifier of a query: the -k keys, with the level set. */
export function identifierFrom(keys: readonly string[], level: string): Element[] {
  const elements = new Map<number, Element>();
  for (const k of keys) {
    const e = parseKey(k);
    elements.set(e.tag, e);
  }
  if (!elements.has(Tag.QueryRetrieveLevel))
    elements.set(Tag.QueryRetrieveLevel, { tag: Tag.QueryRetrieveLevel, vr: 'CS', value: level });
  if (
    [...elements.values()].some((e) => typeof e.value === 'string' && /[^\x20-\x7e]/.test(e.value))
  ) {
    elements.set(Tag.SpecificCharacterSet, {
      tag: Tag.SpecificCharacterSet,
      vr: 'CS',
      value: 'ISO_IR 192',
    });
  }
  return [...elements.values()].sort((a, b) => a.tag - b.tag);
}
