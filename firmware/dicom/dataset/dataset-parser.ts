// Parses a small data set held in memory (a C-FIND identifier, a response) into an
// element tree. Only for messages that are small by nature; instances are never parsed
// this way. Implicit VR elements get their VR from the data dictionary (UN if unknown).
import { DatasetParseError } from '../errors';
import { lookupTag } from '../registry/dictionary';
import { Tag } from '../registry/tags';
import type { Encoding } from './dataset-scanner';
import type { Element } from './dataset-writer';
import { decodeElementHeader, formatTag } from './element-header';

const UNDEFINED = 0xffffffff;
const MAX_DEPTH = 16;

export function parseDataset(buf: Buffer, enc: Encoding): Element[] {
  return parseElements(buf, enc, { pos: 0 }, buf.length, 0).elements;
}

function header(
  buf: Buffer,
  enc: Encoding,
  r: { pos: number },
  end: number,
): { tag: number; vr?: string; length: number } {
  if (r.pos + 8 > end) throw new DatasetParseError('truncated element header', r.pos);
  const at = r.pos;
  let h = decodeElementHeader(buf.subarray(r.pos, r.pos + 8), 8, enc, at);
  if (!h.complete) {
    if (r.pos + 12 > end) throw new DatasetParseError('truncated element header', r.pos);
    h = decodeElementHeader(buf.subarray(r.pos, r.pos + 12), 12, enc, at);
    r.pos += 12;
  } else r.pos += 8;
  if (!h.complete) throw new DatasetParseError('bad element header', at);
  return { tag: h.tag, ...(h.vr !== undefined ? { vr: h.vr } : {}), length: h.length };
}

function implicitVr(tag: number): string {
  if ((tag & 0xffff) === 0) return 'UL';
  const group = tag >>> 16;
  if (group % 2 === 1) return (tag & 0xffff) >= 0x10 && (tag & 0xffff) <= 0xff ? 'LO' : 'UN';
  const vr = lookupTag(tag)?.vr ?? 'UN';
  if (/^[A-Z]{2}$/.test(vr)) return vr;
  return vr.startsWith('US') ? 'US' : vr.startsWith('OB') ? 'OB' : 'UN';
}

/** Elements up to `end`, or up to an item delimiter (then `delimited` is true). */
function parseElements(
  buf: Buffer,
  enc: Encoding,
  r: { pos: number },
  end: number,
  depth: number,
): { elements: Element[]; delimited: boolean } {
  if (depth > MAX_DEPTH) throw new DatasetParseError('sequences nested too deep', r.pos);
  const elements: Element[] = [];
  while (r.pos < end) {
    const at = r.pos;
    const h = header(buf, enc, r, end);
    if (h.tag === Tag.ItemDelimitationItem) {
      if (depth === 0) throw new DatasetParseError('item delimiter outside an item', at);
      return { elements, delimited: true };
    }
    if (h.tag === Tag.Item || h.tag === Tag.SequenceDelimitationItem) {
      throw new DatasetParseError(`${formatTag(h.tag)} outside a sequence`, at);
    }
    const vr = h.vr ?? (h.length === UNDEFINED ? 'SQ' : implicitVr(h.tag));
    if (vr === 'SQ' || h.length === UNDEFINED) {
      elements.push({ tag: h.tag, vr: 'SQ', value: parseItems(buf, enc, r, end, h.length, depth) });
      continue;
    }
    if (r.pos + h.length > end)
      throw new DatasetParseError(`value of ${formatTag(h.tag)} overruns the data set`, at);
    elements.push({ tag: h.tag, vr, value: buf.subarray(r.pos, r.pos + h.length) });
    r.pos += h.length;
  }
  return { elements, delimited: false };
}

function parseItems(
  buf: Buffer,
  enc: Encoding,
  r: { pos: number },
  outerEnd: number,
  length: number,
  depth: number,
): Element[][] {
  const end = length === UNDEFINED ? outerEnd : r.pos + length;
  if (end > outerEnd) throw new DatasetParseError('sequence overruns its container', r.pos);
  const items: Element[][] = [];
  while (r.pos < end) {
    const at = r.pos;
    const h = header(buf, enc, r, end);
    if (h.tag === Tag.SequenceDelimitationItem) {
      if (length !== UNDEFINED)
        throw new DatasetParseError('sequence delimiter in a defined-length sequence', at);
      return items;
    }
    if (h.tag !== Tag.Item)
      throw new DatasetParseError(`${formatTag(h.tag)} where an item was expected`, at);
    if (h.length === UNDEFINED) {
      const item = parseElements(buf, enc, r, end, depth + 1);
      if (!item.delimited) throw new DatasetParseError('unterminated item', at);
      items.push(item.elements);
    } else {
      if (r.pos + h.length > end) throw new DatasetParseError('item overruns its sequence', at);
      const itemEnd = r.pos + h.length;
      items.push(parseElements(buf, enc, r, itemEnd, depth + 1).elements);
      r.pos = itemEnd;
    }
  }
  if (length === UNDEFINED) throw new DatasetParseError('unterminated sequence', r.pos);
  return items;
}
