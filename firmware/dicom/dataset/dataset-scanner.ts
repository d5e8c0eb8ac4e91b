// An incremental, structural walk over a data set as it streams in (PS3.5 §7).
// It keeps only the values of a few wanted top-level attributes; every other value,
// including Pixel Data, is skipped by counting bytes, never copied. Walking to the end
// (rather than stopping at Pixel Data) is what lets it say "this data set was cut off
// mid-element" — the difference between a stored instance and a corrupt one.
//
// Handles Implicit VR LE, Explicit VR LE and BE, defined- and undefined-length sequences
// and items, encapsulated pixel data (PS3.5 A.4), and UN of undefined length, whose
// content is Implicit VR Little Endian (PS3.5 §6.2.2, CP-246).
import { DatasetParseError } from '../errors';
import { Tag } from '../registry/tags';
import { formatTag, HeaderAssembler } from './element-header';

export { formatTag };

export interface Encoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
}

const UNDEFINED_LENGTH = 0xffffffff;
/** VRs that may have an undefined length in explicit VR (SQ, UN, and encapsulated OB/OW). */
const UNDEFINED_LENGTH_VRS = new Set(['SQ', 'UN', 'OB', 'OW']);
const MAX_DEPTH = 32;

/** A top-level element's header, as the walk meets it (offsets in the data set). */
export interface TopLevelElement {
  readonly tag: number;
  /** The explicit VR; undefined in implicit VR. */
  readonly vr: string | undefined;
  /** The value length; 0xFFFFFFFF for an undefined length. */
  readonly length: number;
  /** Where the header starts, and where the value starts. */
  readonly at: number;
  readonly valueAt: number;
}

interface Container {
  readonly kind: 'sequence' | 'item';
  readonly tag: number;
  readonly encoding: Encoding;
}

export class DatasetScanner {
  /** Values of the wanted top-level attributes, raw bytes as sent. */
  readonly values = new Map<number, Buffer>();
  /** Where the top-level native (defined-length) Pixel Data is: header and value offsets. */
  pixelData: { readonly at: number; readonly valueAt: number; readonly length: number } | undefined;
  private pos = 0;
  private skip = 0;
  private collecting: { tag: number; parts: Buffer[]; remaining: number; length: number } | null =
    null;
  private readonly header = new HeaderAssembler();
  private readonly stack: Container[] = [];
  private lastTag = 0;

  constructor(
    private readonly base: Encoding,
    private readonly wanted: ReadonlySet<number>,
    private readonly maxValueLength = 1024,
    /** Told of each top-level element's header as the walk reaches it. */
    private readonly onTopLevel?: (element: TopLevelElement) => void,
  ) {}

  /** Bytes consumed so far. */
  get offset(): number {
    return this.pos;
  }

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, chunk.length - off);
        this.skip -= k;
        off += k;
        this.pos += k;
        continue;
      }
      const c = this.collecting;
      if (c) {
        const k = Math.min(c.remaining, chunk.length - off);
        c.parts.push(Buffer.from(chunk.subarray(off, off + k)));
        c.remaining -= k;
        off += k;
        this.pos += k;
        if (c.remaining === 0) {
          this.values.set(c.tag, Buffer.concat(c.parts, c.length));
          this.collecting = null;
        }
        continue;
      }
      const { used, header, at } = this.header.take(chunk, off, this.pos, this.encoding);
      off += used;
      this.pos += used;
      if (header) {
        this.lastTag = header.tag;
        this.onElement(header.tag, header.vr, header.length, at);
      }
    }
  }

  /** Declares the data set complete. Throws if it ended inside an element or sequence. */
  end(): Map<number, Buffer> {
    if (this.header.inProgress) {
      throw new DatasetParseError(
        `data set ends inside an element header after ${formatTag(this.lastTag)}`,
        this.pos,
      );
    }
    if (this.skip > 0 || this.collecting) {
      throw new DatasetParseError(
        `data set ends inside the value of ${formatTag(this.lastTag)} (${this.skip || this.collecting!.remaining} bytes missing)`,
        this.pos,
      );
    }
    if (this.stack.length > 0) {
      const open = this.stack[this.stack.length - 1]!;
      throw new DatasetParseError(
        `data set ends inside an undefined-length ${open.kind} of ${formatTag(open.tag)}`,
        this.pos,
      );
    }
    return this.values;
  }

  private get encoding(): Encoding {
    return this.stack.length ? this.stack[this.stack.length - 1]!.encoding : this.base;
  }

  private onElement(tag: number, vr: string | undefined, length: number, at: number): void {
    const top = this.stack[this.stack.length - 1];
    if (top?.kind === 'sequence') {
      // Inside an undefined-length sequence (or encapsulated pixel data): items only.
      if (tag === Tag.Item) {
        if (length === UNDEFINED_LENGTH)
          this.push({ kind: 'item', tag: top.tag, encoding: top.encoding }, at);
        else this.skip = length;
        return;
      }
      if (tag === Tag.SequenceDelimitationItem) {
        this.stack.pop();
        return;
      }
      throw new DatasetParseError(
        `${formatTag(tag)} where an item of ${formatTag(top.tag)} was expected`,
        at,
      );
    }
    if (tag === Tag.ItemDelimitationItem) {
      if (top?.kind !== 'item') throw new DatasetParseError('item delimiter outside an item', at);
      this.stack.pop();
      return;
    }
    if (tag === Tag.Item || tag === Tag.SequenceDelimitationItem) {
      throw new DatasetParseError(`${formatTag(tag)} outside a sequence`, at);
    }
    if (top === undefined) this.onTopLevel?.({ tag, vr, length, at, valueAt: this.pos });
    if (length === UNDEFINED_LENGTH) {
      if (vr !== undefined && !UNDEFINED_LENGTH_VRS.has(vr)) {
        throw new DatasetParseError(
          `${formatTag(tag)} with VR ${vr} cannot have an undefined length`,
          at,
        );
      }
      const encoding = vr === 'UN' ? { explicitVr: false, littleEndian: true } : this.encoding;
      this.push({ kind: 'sequence', tag, encoding }, at);
      return;
    }
    if (top === undefined && tag === Tag.PixelData)
      this.pixelData = { at, valueAt: this.pos, length };
    if (top === undefined && this.wanted.has(tag) && length <= this.maxValueLength) {
      if (length === 0) this.values.set(tag, Buffer.alloc(0));
      else this.collecting = { tag, parts: [], remaining: length, length };
      return;
    }
    this.skip = length;
  }

  private push(c: Container, at: number): void {
    if (this.stack.length >= MAX_DEPTH)
      throw new DatasetParseError(`sequences nested deeper than ${MAX_DEPTH}`, at);
    this.stack.push(c);
  }
}
