// The bytes a coerced element carries: the worklist item's value written in the arriving
// instance's own character set, since the rest of the instance's text stays in it. The
// item's bytes as the source sent them when both use the same set (ISO 2022 IR 87 names
// pass unchanged); ASCII, which every set holds; UTF-8 into ISO_IR 192; Latin-1 into
// ISO_IR 100. Anything else cannot be written there without changing the instance's
// Specific Character Set, which would change how its other texts read: not coerced, and
// the listing says why.
import type { Element } from '../dicom/dataset/dataset-writer';
import { parseDataset } from '../dicom/dataset/dataset-parser';
import { Tag } from '../dicom/registry/tags';
import type { CoercedElement, Difference, StoredWorklistItem } from '../../storage/worklist';

const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

/** The attributes checked, by tag. */
export const ATTRIBUTE_TAGS: Readonly<Record<Difference['attribute'], number>> = {
  PatientName: Tag.PatientName,
  PatientID: Tag.PatientId,
  PatientBirthDate: Tag.PatientBirthDate,
};
const VRS: Readonly<Record<Difference['attribute'], string>> = {
  PatientName: 'PN',
  PatientID: 'LO',
  PatientBirthDate: 'DA',
};

/** A character set's name as compared: the default repertoire has three spellings. */
function canonical(charset: string): string {
  const terms = charset.split('\\').map((t) => t.trim());
  const named = terms.map((t) => (t === 'ISO 2022 IR 6' || t === 'ISO_IR 6' ? '' : t));
  return named.join('\\').replace(/^\\+|\\+$/g, '');
}

/** Text values are padded to even length with a space (PS3.5 §6.2). */
function even(value: Buffer): Buffer {
  return value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from(' ')]);
}

function encodable(text: string, charset: string): Buffer | undefined {
  const set = canonical(charset);
  if (/^[\x20-\x7e]*$/.test(text)) return Buffer.from(text, 'latin1');
  if (set === 'ISO_IR 192') return Buffer.from(text, 'utf8');
  if (set === 'ISO_IR 100' && /^[\x20-\xff]*$/.test(text)) return Buffer.from(text, 'latin1');
  return undefined;
}

export interface CoercionPlan {
  readonly elements: CoercedElement[];
  /** Why an attribute that differs is not coerced, if one is not. */
  readonly note: string | null;
}

/** The elements that put the item's values in place of those of `differences`. */
export function coercedValues(
  differences: readonly Difference[],
  item: StoredWorklistItem,
  instanceCharset: string,
): CoercionPlan {
  const stored = new Map<number, Element>(
    parseDataset(item.dataset, EXPLICIT_LE).map((e) => [e.tag, e]),
  );
  const elements: CoercedElement[] = [];
  const notes: string[] = [];
  for (const d of differences) {
    const tag = ATTRIBUTE_TAGS[d.attribute];
    const vr = VRS[d.attribute];
    const raw = stored.get(tag)?.value;
    const bytes =
      Buffer.isBuffer(raw) && canonical(item.specificCharacterSet) === canonical(instanceCharset)
        ? Buffer.from(raw)
        : encodable(d.scheduled, instanceCharset);
    if (bytes === undefined) {
      notes.push(
        `${d.attribute} not coerced: "${d.scheduled}" cannot be written in the instance's character set (${instanceCharset || 'ISO_IR 6'})`,
      );
      continue;
    }
    elements.push({ tag, vr, value: even(bytes) });
  }
  return { elements, note: notes.length > 0 ? notes.join('; ') : null };
}
