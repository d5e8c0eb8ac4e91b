// DIMSE messages over an established association (PS3.7 §9, PS3.8 Annex E).
// Incoming: command fragments are joined (a command set is small and bounded); the data
// set is handed out as a Readable while it arrives, so a service can stream it to disk.
// When the consumer falls behind, reading from the socket pauses (backpressure).
// Outgoing: a command and an optional data set (a buffer or a stream of chunks) are cut
// into PDVs no larger than the peer accepts; messages never interleave.
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { AcceptedContext } from '../acse';
import type { Association } from '../association';
import { CommandDecodeError } from '../errors';
import type { Pdv } from '../pdu';
import { AbortReason } from '../pdu';
import { decodeCommandSet, encodeCommandSet, type CommandSet } from './command-set';

/** A command set larger than this is not a command set: abort rather than buffer it. */
const MAX_COMMAND_LENGTH = 64 * 1024;

export interface IncomingMessage {
  readonly context: AcceptedContext;
  readonly command: CommandSet;
  /** The data set as it arrives, or null when the command says there is none. */
  readonly dataset: Readable | null;
}

export type DimseChannelEvents = {
  message: [message: IncomingMessage];
  'protocol-error': [error: Error];
};

/** A data set that should be small (identifier, action or event information) was not. */
export class DataSetTooLargeError extends Error {
  override name = 'DataSetTooLargeError';
}

/** Data sets that are small by nature are read whole, but never beyond this. */
export const MAX_SMALL_DATA_SET = 1 << 20;

/**
 * Reads a small data set into one buffer. Beyond `max` bytes it reads on to the end (the
 * association must stay in step) keeping nothing, then throws DataSetTooLargeError.
 */
export async function readSmallDataSet(
  stream: AsyncIterable<Buffer> | null,
  max = MAX_SMALL_DATA_SET,
): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size <= max) parts.push(chunk);
  }
  if (size > max)
    throw new DataSetTooLargeError(`data set of ${size} bytes, more than the ${max} allowed here`);
  return Buffer.concat(parts, size);
}

/** Reads a stream to its end, discarding it (a data set nobody will use must still be read). */
export async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const chunk of stream) void chunk;
}

export class DimseChannel extends EventEmitter<DimseChannelEvents> {
  private commandParts: Buffer[] = [];
  private commandLength = 0;
  private contextId = -1;
  private dataset: DatasetStream | null = null;
  private sendQueue: Promise<void> = Promise.resolve();
  private nextMessageId = 1;

  constructor(readonly association: Association) {
    super();
    association.on('pdvs', (pdvs) => {
      for (const pdv of pdvs) {
        if (!this.onPdv(pdv)) return;
      }
    });
    association.on('closed', () => {
      // A data set cut off by an abort must not look complete to its consumer.
      this.dataset?.destroy(new Error('association ended before the data set was complete'));
      this.dataset = null;
    });
  }

  /** A data set is arriving: a message announced one and its last fragment has not come. */
  get receivingDataSet(): boolean {
    return this.dataset !== null;
  }

  /** Message IDs for requests we originate (PS3.7 §9.1.1.1: unique on the association). */
  allocateMessageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId % 0xffff) + 1;
    return id;
  }

  /**
   * Sends a message. Messages are queued so that two senders never interleave their PDVs.
   * Resolves when the last PDV has been handed to the socket (after its buffer drained).
   */
  send(
    contextId: number,
    command: CommandSet,
    dataset?: Buffer | AsyncIterable<Buffer>,
  ): Promise<void> {
    const job = this.sendQueue.then(() => this.sendNow(contextId, command, dataset));
    this.sendQueue = job.catch(() => undefined);
    return job;
  }

  private async sendNow(
    contextId: number,
    command: CommandSet,
    dataset?: Buffer | AsyncIterable<Buffer>,
  ): Promise<void> {
    const a = this.association;
    const max = a.maxPdvDataLength;
    const cmd = encodeCommandSet({ ...command, hasDataSet: dataset !== undefined });
    for (let off = 0; off < cmd.length; off += max) {
      const end = Math.min(off + max, cmd.length);
      if (!a.writePdv(contextId, true, end === cmd.length, cmd.subarray(off, end)))
        await a.drained();
    }
    if (dataset === undefined) return;
    if (Buffer.isBuffer(dataset)) {
      if (dataset.length === 0) {
        a.writePdv(contextId, false, true, dataset);
        return;
      }
      for (let off = 0; off < dataset.length; off += max) {
        const end = Math.min(off + max, dataset.length);
        if (!a.writePdv(contextId, false, end === dataset.length, dataset.subarray(off, end)))
          await a.drained();
      }
      return;
    }
    // A stream: hold back one piece so the last PDV can carry the "last fragment" bit. Every
    // fragment but the last is cut at an even length: a chunk of odd length (a transcoder's,
    // a file's last) leaves its last byte to lead the next one — copied with no more of the
    // next chunk than one PDV takes, the rest of that chunk still sent as views.
    let held: Buffer | null = null;
    let carry: Buffer | null = null;
    for await (const next of dataset) {
      const pieces = evenPieces(next, carry, max);
      carry = pieces.carry;
      const ok = a.corked(() => {
        let room = true;
        for (const piece of pieces.pieces) {
          if (held) room = a.writePdv(contextId, false, false, held) && room;
          held = piece;
        }
        return room;
      });
      if (!ok) await a.drained();
    }
    let last: Buffer = held ?? Buffer.alloc(0);
    if (carry) {
      // The data set's last byte: with the held piece if it fits, else a PDV of its own.
      if (last.length + 1 <= max) last = Buffer.concat([last, carry]);
      else {
        if (!a.writePdv(contextId, false, false, last)) await a.drained();
        last = carry;
      }
    }
    if (!a.writePdv(contextId, false, true, last)) await a.drained();
  }

  /** Returns false when the association was aborted and the rest of the PDU must be dropped. */
  private onPdv(pdv: Pdv): boolean {
    const context = this.association.info?.contexts.get(pdv.contextId);
    if (!context)
      return this.violation(`PDV on presentation context ${pdv.contextId}, which was not accepted`);
    if (this.contextId !== -1 && pdv.contextId !== this.contextId) {
      return this.violation(
        `PDV on context ${pdv.contextId} inside a message on context ${this.contextId}`,
      );
    }
    if (pdv.isCommand) {
      if (this.dataset)
        return this.violation('command fragment while a data set was being received');
      this.contextId = pdv.contextId;
      this.commandLength += pdv.data.length;
      if (this.commandLength > MAX_COMMAND_LENGTH)
        return this.violation(`command set longer than ${MAX_COMMAND_LENGTH} bytes`);
      this.commandParts.push(pdv.data);
      if (!pdv.isLast) return true;
      let command: CommandSet;
      try {
        command = decodeCommandSet(Buffer.concat(this.commandParts, this.commandLength));
      } catch (err) {
        return this.violation((err as Error).message);
      }
      this.commandParts = [];
      this.commandLength = 0;
      let dataset: DatasetStream | null = null;
      if (command.hasDataSet) {
        dataset = new DatasetStream(this.association);
        this.dataset = dataset;
      } else {
        this.contextId = -1;
      }
      this.emit('message', { context, command, dataset });
      return true;
    }
    // A data fragment.
    if (!this.dataset) return this.violation('data set fragment without a command announcing one');
    const ds = this.dataset;
    const full = pdv.data.length > 0 && !ds.push(pdv.data);
    if (pdv.isLast) {
      // The data set is whole: what comes next (a command, a release) is read at once. A
      // pause left from its fragments would last for ever: an ended stream never asks for
      // more (_read), so reading resumes here.
      ds.push(null);
      this.dataset = null;
      this.contextId = -1;
      this.association.resumeReading();
    } else if (full) this.association.pauseReading();
    return true;
  }

  private violation(message: string): false {
    this.emit('protocol-error', new CommandDecodeError(message));
    this.dataset?.destroy(new CommandDecodeError(message));
    this.dataset = null;
    this.association.abort(AbortReason.NotSpecified);
    return false;
  }
}

/**
 * A chunk cut into PDV data of at most `max` (even) bytes, each of even length: the byte
 * carried from the previous chunk leads, and an odd last byte is carried on.
 */
export function evenPieces(
  chunk: Buffer,
  carried: Buffer | null,
  max: number,
): { pieces: Buffer[]; carry: Buffer | null } {
  const pieces: Buffer[] = [];
  let rest = chunk;
  if (carried) {
    const take = Math.min(max - 1, rest.length);
    pieces.push(Buffer.concat([carried, rest.subarray(0, take)]));
    rest = rest.subarray(take);
  }
  for (let off = 0; off < rest.length; off += max)
    pieces.push(rest.subarray(off, Math.min(off + max, rest.length)));
  let carry: Buffer | null = null;
  const last = pieces[pieces.length - 1];
  if (last && last.length % 2 === 1) {
    carry = last.subarray(last.length - 1);
    if (last.length === 1) pieces.pop();
    else pieces[pieces.length - 1] = last.subarray(0, last.length - 1);
  }
  return { pieces, carry };
}

/** The Readable a data set arrives through. Reading from it resumes the socket. */
class DatasetStream extends Readable {
  constructor(private readonly association: Association) {
    // Object mode: each PDV's data comes out as the chunk it went in, never concatenated
    // with its neighbours (a byte stream's read() would copy them together).
    super({ objectMode: true, highWaterMark: 16 });
    // An abort destroys the stream with an error; a consumer that has not started reading
    // yet sees it when it does (the async iterator rethrows it). Without a listener here
    // that error would be an uncaught exception and take the whole box down.
    this.on('error', () => undefined);
  }

  override _read(): void {
    this.association.resumeReading();
  }
}
