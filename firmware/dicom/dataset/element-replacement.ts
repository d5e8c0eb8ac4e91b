// Replacing the values of a few top-level elements of a data set as it streams (PS3.5 §7),
// every other byte passed through as it is: what an attribute coercion needs when the rest
// of the instance must stay bit-exact. An element the data set lacks is inserted where its
// tag orders it; a Group Length (gggg,0000) of a group whose length changes is rewritten to
// the new length (held back, at most MAX_HELD_GROUP bytes, until the group ends). Once the
// walk is past the last group replaced, the rest (Pixel Data included) is not even walked.
// Never the whole data set in memory; not for deflated data sets (the caller's to refuse).
import { DatasetParseError } from '../errors';
import { DatasetScanner, type Encoding, type TopLevelElement } from './dataset-scanner';
import { encodeElement } from './dataset-writer';
import { formatTag } from './element-header';

/** An element's new value: bytes as the data set's character set has them, of even length. */
export interface ElementValue {
  readonly tag: number;
  readonly vr: string;
  readonly value: Buffer;
}

/** The data set cannot be changed so: a group too long to hold for its group length. */
export class ElementReplacementError extends Error {
  override name = 'ElementReplacementError';
}

/** A group whose Group Length element is held back until its new length is known. */
export const MAX_HELD_GROUP = 1 << 20;

const UNDEFINED_LENGTH = 0xffffffff;
/** An element header is at most 12 bytes: bytes older than that start no header not yet seen. */
const MAX_HEADER = 12;

/** Input bytes [at, end) become `insert`; `group`: the group of the element it writes. */
interface Edit {
  readonly at: number;
  readonly end: number;
  readonly insert: Buffer;
  readonly group?: number;
}

const groupOf = (tag: number): number => tag >>> 16;
const groupLengthTag = (group: number): number => (group << 16) >>> 0;

/**
 * The data set with each of `values` in place of the top-level element of its tag (or
 * inserted). Throws DatasetParseError when the data set is malformed before the last
 * element replaced, and ElementReplacementError when a group length cannot be kept true.
 */
export async function* replaceTopLevelElements(
  source: AsyncIterable<Buffer>,
  encoding: Encoding,
  values: readonly ElementValue[],
): AsyncGenerator<Buffer> {
  const r = new Replacer(encoding, values);
  for await (const chunk of source) {
    const out = r.write(chunk);
    if (out.length > 0) yield out.length === 1 ? out[0]! : Buffer.concat(out);
  }
  const tail = r.end();
  if (tail.length > 0) yield Buffer.concat(tail);
}

export class Replacer {
  private readonly scanner: DatasetScanner;
  /** The values still to place, by tag, ascending. */
  private readonly todo: ElementValue[];
  private readonly groups: ReadonlySet<number>;
  private readonly lastGroup: number;
  private readonly edits: Edit[] = [];
  /** A Group Length met of a group being changed: held from `at` until the group ends. */
  private held: { group: number; at: number; valueAt: number } | null = null;
  /** Input received, as chunks from offset `base`; `pos`: the offset after the last. */
  private chunks: Buffer[] = [];
  private base = 0;
  private pos = 0;
  /** Input decided up to here (emitted, or dropped by an edit). */
  private cursor = 0;
  private passThrough = false;

  constructor(
    private readonly encoding: Encoding,
    values: readonly ElementValue[],
  ) {
    this.todo = [...values].sort((a, b) => a.tag - b.tag);
    this.groups = new Set(this.todo.map((v) => groupOf(v.tag)));
    this.lastGroup = Math.max(-1, ...this.groups);
    const wanted = new Set([...this.groups].map(groupLengthTag));
    this.scanner = new DatasetScanner(encoding, wanted, 4, (e) => this.onElement(e));
    this.passThrough = this.todo.length === 0;
  }

  write(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    if (!this.passThrough) this.scanner.write(chunk);
    this.chunks.push(chunk);
    this.pos += chunk.length;
    // A header not yet whole may start in the last bytes; a held group stays until it ends.
    let safe = this.passThrough ? this.pos : this.pos - MAX_HEADER;
    if (this.held) {
      if (this.pos - this.held.at > MAX_HELD_GROUP)
        throw new ElementReplacementError(
          `group ${formatTag(groupLengthTag(this.held.group)).slice(1, 5)} is longer than ${MAX_HELD_GROUP} bytes: its group length cannot be rewritten`,
        );
      safe = Math.min(safe, this.held.at);
    }
    return this.emit(safe);
  }

  end(): Buffer[] {
    if (!this.passThrough) this.scanner.end();
    // Values whose tag is above every element's go at the end.
    this.insertRemaining(Number.MAX_SAFE_INTEGER, this.pos);
    this.closeGroup();
    const out = this.emit(this.pos);
    // Insertions at the very end have no byte after them to wait for.
    for (const edit of this.edits.splice(0)) out.push(edit.insert);
    return out;
  }

  /** A top-level element's header: place what goes before it, replace it, or hold its group. */
  private onElement(e: TopLevelElement): void {
    this.insertRemaining(e.tag, e.at);
    if (this.held && groupOf(e.tag) !== this.held.group) this.closeGroup();
    const group = groupOf(e.tag);
    if (e.tag === groupLengthTag(group) && this.groups.has(group) && e.length === 4) {
      this.held = { group, at: e.at, valueAt: e.valueAt };
      return;
    }
    const next = this.todo[0];
    if (next?.tag === e.tag) {
      if (e.length === UNDEFINED_LENGTH)
        throw new DatasetParseError(
          `${formatTag(e.tag)} of undefined length cannot be replaced`,
          e.at,
        );
      this.todo.shift();
      this.edits.push({ at: e.at, end: e.valueAt + e.length, insert: this.encode(next), group });
    }
    if (this.todo.length === 0 && !this.held && group > this.lastGroup) this.passThrough = true;
  }

  /** The values of tags below `tag`, not met: inserted at `at`. */
  private insertRemaining(tag: number, at: number): void {
    while (this.todo.length > 0 && this.todo[0]!.tag < tag) {
      const value = this.todo.shift()!;
      this.edits.push({ at, end: at, insert: this.encode(value), group: groupOf(value.tag) });
    }
  }

  /** The held group ended: its group length becomes the old one plus what its edits changed. */
  private closeGroup(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    const old = this.scanner.values.get(groupLengthTag(held.group));
    if (old?.length !== 4) return;
    const delta = this.edits
      .filter((e) => e.group === held.group)
      .reduce((sum, e) => sum + e.insert.length - (e.end - e.at), 0);
    const length = Buffer.alloc(4);
    const was = this.encoding.littleEndian ? old.readUInt32LE(0) : old.readUInt32BE(0);
    if (this.encoding.littleEndian) length.writeUInt32LE(was + delta);
    else length.writeUInt32BE(was + delta);
    this.edits.push({ at: held.valueAt, end: held.valueAt + 4, insert: length });
  }

  private encode(v: ElementValue): Buffer {
    return encodeElement({ tag: v.tag, vr: v.vr, value: v.value }, this.encoding);
  }

  /** Output up to input offset `limit`, the edits applied in order. */
  private emit(limit: number): Buffer[] {
    this.edits.sort((a, b) => a.at - b.at || a.end - b.end);
    const out: Buffer[] = [];
    while (this.cursor < limit) {
      const edit = this.edits[0];
      if (edit && edit.at <= this.cursor) {
        this.edits.shift();
        out.push(edit.insert);
        this.cursor = Math.max(this.cursor, edit.end);
        continue;
      }
      const stop = Math.min(limit, edit ? edit.at : limit);
      out.push(...this.take(this.cursor, stop));
      this.cursor = stop;
    }
    // Edits at `limit` itself (an insertion before the next element) wait for their bytes.
    this.release();
    return out.filter((b) => b.length > 0);
  }

  /** Input bytes [from, to), as views of the chunks they arrived in. */
  private take(from: number, to: number): Buffer[] {
    const out: Buffer[] = [];
    let offset = this.base;
    for (const c of this.chunks) {
      const start = Math.max(from, offset);
      const end = Math.min(to, offset + c.length);
      if (start < end) out.push(c.subarray(start - offset, end - offset));
      offset += c.length;
      if (offset >= to) break;
    }
    return out;
  }

  /** Chunks wholly before the cursor are done with. */
  private release(): void {
    while (this.chunks.length > 0 && this.base + this.chunks[0]!.length <= this.cursor) {
      this.base += this.chunks.shift()!.length;
    }
  }
}
