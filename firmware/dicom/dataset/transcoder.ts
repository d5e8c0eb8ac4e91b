// Streaming transcoding between the uncompressed transfer syntaxes (PS3.5 §7, A.1, A.2,
// A.3): Implicit VR Little Endian, Explicit VR Little Endian, Explicit VR Big Endian.
// Used only when a destination refuses the syntax an instance was received in
// (PRODUCT.md promise 2: the box changes bytes only where a peer cannot accept them).
//
// Element by element, never holding the data set: headers are rewritten, values pass
// through (byte-swapped by VR when the endianness changes). Sequences and items are
// written with undefined length and delimiters, so no length has to be known ahead.
// Group length elements (gggg,0000) are dropped, as they would no longer be true.
// VRs for implicit input come from the data dictionary; private and unknown tags get UN.
import { DatasetParseError } from '../errors';
import { lookupTag } from '../registry/dictionary';
import { Tag } from '../registry/tags';
import {
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from '../registry/transfer-syntaxes';
import { LONG_LENGTH_VRS } from '../registry/vr';
import type { Encoding } from './dataset-scanner';
import { formatTag, HeaderAssembler } from './element-header';

const ENCODINGS: Readonly<Record<string, Encoding>> = {
  [IMPLICIT_VR_LITTLE_ENDIAN]: { explicitVr: false, littleEndian: true },
  [EXPLICIT_VR_LITTLE_ENDIAN]: { explicitVr: true, littleEndian: true },
  [EXPLICIT_VR_BIG_ENDIAN]: { explicitVr: true, littleEndian: false },
};

export function canTranscode(from: string, to: string): boolean {
  return from !== to && ENCODINGS[from] !== undefined && ENCODINGS[to] !== undefined;
}

/** Transcodes a data set stream; throws DatasetParseError if the input is malformed. */
export async function* transcode(
  source: AsyncIterable<Buffer>,
  from: string,
  to: string,
): AsyncGenerator<Buffer> {
  const input = ENCODINGS[from];
  const output = ENCODINGS[to];
  if (!input || !output) throw new Error(`cannot transcode ${from} to ${to}`);
  const t = new Transcoder(input, output);
  for await (const chunk of source) {
    const out = t.write(chunk);
    if (out.length > 0) yield out.length === 1 ? out[0]! : Buffer.concat(out);
  }
  const tail = t.end();
  if (tail.length > 0) yield Buffer.concat(tail);
}

const UNDEFINED = 0xffffffff;

/** Byte-swap unit of a VR's values when endianness changes (0: bytes as they are). */
function swapUnit(vr: string): number {
  switch (vr) {
    case 'US':
    case 'SS':
    case 'OW':
    case 'AT': // a pair of 16-bit numbers
      return 2;
    case 'UL':
    case 'SL':
    case 'FL':
    case 'OL':
    case 'OF':
      return 4;
    case 'FD':
    case 'OD':
    case 'SV':
    case 'UV':
    case 'OV':
      return 8;
    default:
      return 0;
  }
}

interface Container {
  readonly kind: 'sequence' | 'item';
  readonly tag: number;
  /** Input offset where a defined-length container ends; undefined for delimited ones. */
  readonly end: number | undefined;
  readonly encoding: Encoding;
}

export class Transcoder {
  private pos = 0;
  private readonly header = new HeaderAssembler();
  private readonly stack: Container[] = [];
  /** Value bytes still to pass (or drop) for the current element. */
  private remaining = 0;
  private dropping = false;
  private unit = 0;
  private partial: Buffer = Buffer.alloc(0);
  private capture: { tag: number; bytes: number[] } | null = null;
  private bitsAllocated = 16;
  private pixelRepresentation = 0;
  private out: Buffer[] = [];

  constructor(
    private readonly input: Encoding,
    private readonly output: Encoding,
  ) {}

  write(chunk: Buffer): Buffer[] {
    let off = 0;
    while (off < chunk.length) {
      if (this.remaining > 0) {
        const k = Math.min(this.remaining, chunk.length - off);
        this.value(chunk.subarray(off, off + k));
        this.remaining -= k;
        this.pos += k;
        off += k;
        if (this.remaining === 0) this.endOfValue();
        continue;
      }
      if (!this.header.inProgress) this.closeEndedContainers();
      const { used, header, at } = this.header.take(chunk, off, this.pos, this.encoding);
      this.pos += used;
      off += used;
      if (header) this.onElement(header.tag, header.vr, header.length, at);
    }
    return this.flush();
  }

  end(): Buffer[] {
    if (this.header.inProgress || this.remaining > 0) {
      throw new DatasetParseError('data set ends inside an element', this.pos);
    }
    this.closeEndedContainers();
    if (this.stack.length > 0)
      throw new DatasetParseError('data set ends inside a sequence', this.pos);
    return this.flush();
  }

  private flush(): Buffer[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private get encoding(): Encoding {
    return this.stack.length ? this.stack[this.stack.length - 1]!.encoding : this.input;
  }

  /** Defined-length sequences and items end at an offset: close them with delimiters. */
  private closeEndedContainers(): void {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (!top || top.end === undefined || this.pos < top.end) return;
      if (this.pos > top.end)
        throw new DatasetParseError(
          `content overruns ${top.kind} of ${formatTag(top.tag)}`,
          this.pos,
        );
      this.stack.pop();
      this.emitTagLength(
        top.kind === 'item' ? Tag.ItemDelimitationItem : Tag.SequenceDelimitationItem,
        0,
      );
    }
  }

  private onElement(tag: number, explicitVr: string | undefined, length: number, at: number): void {
    const top = this.stack[this.stack.length - 1];
    if (tag === Tag.Item) {
      if (top?.kind !== 'sequence') throw new DatasetParseError('item outside a sequence', at);
      this.emitTagLength(Tag.Item, UNDEFINED);
      this.stack.push({
        kind: 'item',
        tag: top.tag,
        end: length === UNDEFINED ? undefined : this.pos + length,
        encoding: top.encoding,
      });
      return;
    }
    if (tag === Tag.ItemDelimitationItem || tag === Tag.SequenceDelimitationItem) {
      const kind = tag === Tag.ItemDelimitationItem ? 'item' : 'sequence';
      if (top?.kind !== kind || top.end !== undefined)
        throw new DatasetParseError(`unexpected ${formatTag(tag)}`, at);
      this.stack.pop();
      this.emitTagLength(tag, 0);
      return;
    }
    if (top?.kind === 'sequence')
      throw new DatasetParseError(`${formatTag(tag)} where an item was expected`, at);

    const vr = explicitVr ?? this.implicitVr(tag, length);
    const isSequence = vr === 'SQ' || length === UNDEFINED;
    if (isSequence) {
      if (length === UNDEFINED && vr !== 'SQ' && vr !== 'UN') {
        throw new DatasetParseError(
          `${formatTag(tag)} (${vr}) with undefined length is not transcodable`,
          at,
        );
      }
      // The content of an undefined-length UN is Implicit VR Little Endian (CP-246).
      const encoding = vr === 'UN' ? { explicitVr: false, littleEndian: true } : this.encoding;
      this.emitHeader(tag, 'SQ', UNDEFINED);
      this.stack.push({
        kind: 'sequence',
        tag,
        end: length === UNDEFINED ? undefined : this.pos + length,
        encoding,
      });
      return;
    }
    if ((tag & 0xffff) === 0) {
      this.startValue(length, 0, true); // group length: no longer true after re-encoding
      return;
    }
    let outVr = vr;
    if (this.output.explicitVr && !LONG_LENGTH_VRS.has(outVr) && length > 0xffff) outVr = 'UN';
    this.emitHeader(tag, outVr, length);
    const swap = this.encoding.littleEndian !== this.output.littleEndian ? swapUnit(outVr) : 0;
    if (
      this.stack.length === 0 &&
      (tag === Tag.BitsAllocated || tag === Tag.PixelRepresentation) &&
      length === 2
    ) {
      this.capture = { tag, bytes: [] };
    }
    this.startValue(length, swap, false);
  }

  /** The VR of an implicit-VR element (PS3.5 A.1): dictionary, with the few context rules. */
  private implicitVr(tag: number, length: number): string {
    if (length === UNDEFINED) return 'SQ';
    const group = tag >>> 16;
    const elem = tag & 0xffff;
    if (elem === 0) return 'UL';
    if (group % 2 === 1) return elem >= 0x0010 && elem <= 0x00ff ? 'LO' : 'UN';
    const entry = lookupTag(tag);
    if (!entry) return 'UN';
    if (tag === Tag.PixelData) return this.bitsAllocated > 8 ? 'OW' : 'OB';
    switch (entry.vr) {
      case 'US or SS':
        return this.pixelRepresentation === 1 ? 'SS' : 'US';
      case 'OB or OW':
      case 'US or OW':
      case 'US or SS or OW':
        return 'OW';
      default:
        return /^[A-Z]{2}$/.test(entry.vr) ? entry.vr : 'UN';
    }
  }

  private startValue(length: number, unit: number, drop: boolean): void {
    this.remaining = length;
    this.unit = unit;
    this.dropping = drop;
    this.partial = Buffer.alloc(0);
    if (length === 0) this.endOfValue();
  }

  private value(bytes: Buffer): void {
    if (this.capture) this.capture.bytes.push(...bytes);
    if (this.dropping) return;
    if (this.unit === 0) {
      this.out.push(bytes);
      return;
    }
    // Swap whole units; keep a split unit for the next chunk.
    const data = this.partial.length ? Buffer.concat([this.partial, bytes]) : Buffer.from(bytes);
    const whole = data.length - (data.length % this.unit);
    const swapped = data.subarray(0, whole);
    if (this.unit === 2) swapped.swap16();
    else if (this.unit === 4) swapped.swap32();
    else swapped.swap64();
    if (whole > 0) this.out.push(swapped);
    this.partial = data.subarray(whole);
  }

  private endOfValue(): void {
    if (this.partial.length > 0) this.out.push(this.partial); // odd tail: passed as is
    this.partial = Buffer.alloc(0);
    if (this.capture) {
      const b = Buffer.from(this.capture.bytes);
      const v = this.input.littleEndian ? b.readUInt16LE(0) : b.readUInt16BE(0);
      if (this.capture.tag === Tag.BitsAllocated) this.bitsAllocated = v;
      else this.pixelRepresentation = v;
      this.capture = null;
    }
    this.dropping = false;
  }

  private emitTagLength(tag: number, length: number): void {
    const b = Buffer.alloc(8);
    this.writeTag(b, tag);
    if (this.output.littleEndian) b.writeUInt32LE(length, 4);
    else b.writeUInt32BE(length, 4);
    this.out.push(b);
  }

  private emitHeader(tag: number, vr: string, length: number): void {
    if (!this.output.explicitVr) {
      this.emitTagLength(tag, length);
      return;
    }
    const long = LONG_LENGTH_VRS.has(vr);
    const b = Buffer.alloc(long ? 12 : 8);
    this.writeTag(b, tag);
    b.write(vr, 4, 'latin1');
    if (long) {
      if (this.output.littleEndian) b.writeUInt32LE(length, 8);
      else b.writeUInt32BE(length, 8);
    } else if (this.output.littleEndian) b.writeUInt16LE(length, 6);
    else b.writeUInt16BE(length, 6);
    this.out.push(b);
  }

  private writeTag(b: Buffer, tag: number): void {
    if (this.output.littleEndian) {
      b.writeUInt16LE(tag >>> 16, 0);
      b.writeUInt16LE(tag & 0xffff, 2);
    } else {
      b.writeUInt16BE(tag >>> 16, 0);
      b.writeUInt16BE(tag & 0xffff, 2);
    }
  }
}
