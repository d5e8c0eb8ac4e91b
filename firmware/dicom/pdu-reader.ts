// TCP chunks in, whole PDUs out. Chunks are kept as they arrived (a list and an offset
// into the first); a PDU's body is handed out as views of the chunks it lies in, one when
// it lies inside one chunk. Nothing is copied, neither as more data arrives nor when a PDU
// spans chunks (a P-DATA-TF of 128 KB spans two or three 64 KB socket reads: copying it
// whole was the receive path's largest copy), and the length field is checked against our
// limits before anything is allocated (PS3.8 §9.3.1, §D.1: maximum length).
import { PduDecodeError } from './errors';
import { PDU_HEADER_LENGTH, PduType } from './pdu/pdu-types';

export interface PduReaderLimits {
  /** The Maximum Length we announced for P-DATA-TF variable fields; 0 = no limit. */
  maxPDataLength: number;
  /** Cap for every other PDU (association negotiation), which the standard leaves open. */
  maxOtherLength: number;
}

export interface RawPdu {
  readonly type: number;
  /** The PDU's variable part (after the 6-byte header): views of the chunks it arrived in,
   * in order; one when it lies inside one chunk. */
  readonly body: readonly Buffer[];
}

const KNOWN_TYPES = new Set<number>(Object.values(PduType));

export class PduReader {
  private chunks: Buffer[] = [];
  private head = 0; // offset into chunks[0]
  private buffered = 0;
  private readonly header = Buffer.alloc(PDU_HEADER_LENGTH);

  constructor(public limits: PduReaderLimits) {}

  /** Bytes held but not yet returned as PDUs. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next whole PDU, or undefined when more bytes are needed. Throws PduDecodeError. */
  next(): RawPdu | undefined {
    if (this.buffered < PDU_HEADER_LENGTH) return undefined;
    this.peek(this.header, PDU_HEADER_LENGTH);
    const type = this.header[0]!;
    const length = this.header.readUInt32BE(2);
    if (!KNOWN_TYPES.has(type)) {
      // 0x16 0x03: a TLS record (handshake, TLS 1.x) — a TLS client on a plain port.
      const tls =
        type === 0x16 && this.header[1] === 0x03 ? ' (a TLS handshake: this port is not TLS)' : '';
      throw new PduDecodeError(
        `unrecognized PDU type 0x${type.toString(16).padStart(2, '0')}${tls}`,
        1,
      );
    }
    const limit =
      type === PduType.PDataTf
        ? this.limits.maxPDataLength === 0
          ? 0xffffffff
          : this.limits.maxPDataLength
        : this.limits.maxOtherLength;
    if (length > limit) {
      throw new PduDecodeError(
        `PDU type 0x${type.toString(16)} length ${length} exceeds the maximum ${limit}`,
        6,
      );
    }
    if (this.buffered < PDU_HEADER_LENGTH + length) return undefined;
    this.consume(PDU_HEADER_LENGTH);
    return { type, body: this.take(length) };
  }

  private peek(into: Buffer, n: number): void {
    let copied = 0;
    let offset = this.head;
    for (const c of this.chunks) {
      const k = Math.min(n - copied, c.length - offset);
      c.copy(into, copied, offset, offset + k);
      copied += k;
      offset = 0;
      if (copied === n) return;
    }
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      const left = first.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  private take(n: number): Buffer[] {
    const views: Buffer[] = [];
    while (n > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(n, c.length - this.head);
      views.push(c.subarray(this.head, this.head + k));
      this.consume(k);
      n -= k;
    }
    return views;
  }
}
