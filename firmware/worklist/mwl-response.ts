// One answer to a modality's MWL C-FIND (PS3.4 K.6.1.2.2, C.2.2.1.1): exactly the keys it
// asked for, each with the item's value as the source sent it (its bytes, under the item's
// own Specific Character Set, which the answer carries), or empty when the item has none.
// A sequence asked for with no item, or an empty one, comes back whole (universal sequence
// matching, C.2.2.2.6); with keys in its item, each of its items comes back with those keys.
import type { Element } from '../dicom/dataset/dataset-writer';
import { Tag } from '../dicom/registry/tags';

type Items = readonly (readonly Element[])[];

function shape(keys: readonly Element[], item: readonly Element[]): Element[] {
  const byTag = new Map(item.map((e) => [e.tag, e]));
  const out: Element[] = [];
  for (const key of keys) {
    if (
      (key.tag & 0xffff) === 0 ||
      key.tag === Tag.SpecificCharacterSet ||
      key.tag === Tag.QueryRetrieveLevel
    )
      continue;
    const found = byTag.get(key.tag);
    if (Array.isArray(key.value) || key.vr === 'SQ') {
      const template = (Array.isArray(key.value) ? (key.value as Items) : [])[0];
      if (!found || !Array.isArray(found.value)) {
        out.push({ tag: key.tag, vr: 'SQ', value: [] });
      } else if (!template || template.length === 0) {
        out.push(found);
      } else {
        const items = (found.value as Items).map((i) => shape(template, i));
        out.push({ tag: key.tag, vr: 'SQ', value: items });
      }
      continue;
    }
    out.push(
      found && Buffer.isBuffer(found.value) ? found : { tag: key.tag, vr: key.vr, value: '' },
    );
  }
  return out;
}

/** The answer's identifier: the requested keys valued from the stored item, in tag order. */
export function mwlResponse(keys: readonly Element[], stored: readonly Element[]): Element[] {
  const out = shape(keys, stored);
  const charset = stored.find((e) => e.tag === Tag.SpecificCharacterSet);
  if (charset && Buffer.isBuffer(charset.value) && charset.value.toString('latin1').trim() !== '')
    out.push(charset);
  return out.sort((a, b) => a.tag - b.tag);
}
