// Sends DIMSE requests and waits for their responses (PS3.7 §9.1: a response carries the
// Message ID Being Responded To; Pending responses precede the final one).
import type { Association } from '../association';
import { AssociationClosedError } from '../errors';
import type { CommandSet } from './command-set';
import {
  DataSetTooLargeError,
  DimseChannel,
  readSmallDataSet,
  type IncomingMessage,
} from './dimse-channel';
import { isResponse } from './command-field';
import { statusCategory } from './status';

export interface DimseResponse {
  readonly command: CommandSet;
  /** The response's data set, already read (identifiers are small). */
  readonly dataset?: Buffer;
  /** Why the data set is not there although the response had one (larger than allowed). */
  readonly datasetError?: string;
}

/** What is told of each pending response; a promise holds the next response back until it settles. */
export type PendingHandler = (r: DimseResponse) => unknown;

/**
 * Responses read off the socket but not yet handled: beyond this many, reading pauses
 * until the handler catches up, so a peer answering faster than the handler (a C-FIND of
 * a hundred thousand matches into a database) costs a bounded memory, not one per match.
 */
const MAX_BACKLOG = 32;

interface Waiter {
  onPending?: PendingHandler;
  resolve: (r: DimseResponse) => void;
  reject: (e: Error) => void;
}

export class DimseRequestor {
  readonly channel: DimseChannel;
  private readonly waiting = new Map<number, Waiter>();
  private inOrder: Promise<void> = Promise.resolve();
  /** Messages received and not yet handled, and whether reading was paused for them. */
  private backlog = 0;
  private pausedForBacklog = false;

  /** Shares `channel` when given (an acceptor also sending requests, as C-GET does). */
  constructor(
    readonly association: Association,
    channel?: DimseChannel,
  ) {
    this.channel = channel ?? new DimseChannel(association);
    // Responses are handled in arrival order: a pending response's data set is read
    // asynchronously, and the final response must not overtake it.
    this.channel.on('message', (m: IncomingMessage) => {
      this.backlog++;
      this.holdBack();
      this.inOrder = this.inOrder
        .then(() => this.onMessage(m))
        .catch(() => undefined)
        .finally(() => {
          this.backlog--;
          if (this.pausedForBacklog && this.backlog <= MAX_BACKLOG / 2) {
            this.pausedForBacklog = false;
            this.association.resumeReading();
          }
        });
    });
    association.on('closed', (reason) => {
      const error =
        reason.kind === 'released'
          ? new AssociationClosedError('association released')
          : reason.error;
      for (const w of this.waiting.values()) w.reject(error);
      this.waiting.clear();
    });
  }

  /**
   * Sends a request and resolves with its final (non-pending) response. `onSent` is told
   * when its last fragment has left: from then on only the peer keeps it waiting (with an
   * Asynchronous Operations Window, a request may wait its turn to be sent for long).
   */
  async request(
    contextId: number,
    command: Omit<CommandSet, 'messageId' | 'hasDataSet'>,
    dataset?: Buffer | AsyncIterable<Buffer>,
    onPending?: PendingHandler,
    onSent?: () => void,
  ): Promise<DimseResponse> {
    const messageId = this.channel.allocateMessageId();
    const response = new Promise<DimseResponse>((resolve, reject) => {
      this.waiting.set(messageId, { resolve, reject, ...(onPending ? { onPending } : {}) });
    });
    try {
      await this.channel.send(
        contextId,
        { ...command, messageId, hasDataSet: dataset !== undefined },
        dataset,
      );
    } catch (err) {
      this.waiting.delete(messageId);
      throw err;
    }
    onSent?.();
    return response;
  }

  private async onMessage(m: IncomingMessage): Promise<void> {
    // Requests to us belong to whoever serves them; their data sets are not ours to read.
    if (!isResponse(m.command.commandField)) return;
    let dataset: Buffer | undefined;
    let datasetError: string | undefined;
    if (m.dataset) {
      try {
        dataset = await readSmallDataSet(m.dataset);
      } catch (err) {
        // Read to its end and dropped: the response still counts, without its data set.
        if (!(err instanceof DataSetTooLargeError)) throw err;
        datasetError = err.message;
      }
      // Reading the data set resumed the socket (DatasetStream._read): still behind, pause again.
      this.holdBack();
    }
    const id = m.command.messageIdBeingRespondedTo ?? -1;
    const w = this.waiting.get(id);
    if (!w) return;
    const r: DimseResponse = {
      command: m.command,
      ...(dataset ? { dataset } : {}),
      ...(datasetError ? { datasetError } : {}),
    };
    if (statusCategory(m.command.status ?? 0) === 'pending') {
      try {
        await w.onPending?.(r);
      } catch (err) {
        // The handler gave up on the request: its caller hears it now, the rest is ignored.
        this.waiting.delete(id);
        w.reject(err as Error);
      }
      return;
    }
    this.waiting.delete(id);
    w.resolve(r);
  }

  /** Pauses reading while the handled messages lag too far behind the received ones. */
  private holdBack(): void {
    if (this.backlog <= MAX_BACKLOG) return;
    this.pausedForBacklog = true;
    this.association.pauseReading();
  }
}
