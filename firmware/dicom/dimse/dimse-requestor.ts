// Sends DIMSE requests and waits for their responses (PS3.7 §9.1: a response carries the
// Message ID Being Responded To; Pending responses precede the final one).
import type { Association } from '../association';
import { AssociationClosedError } from '../errors';
import type { CommandSet } from './command-set';
import { DimseChannel, readSmallDataSet, type IncomingMessage } from './dimse-channel';
import { isResponse } from './command-field';
import { statusCategory } from './status';

export interface DimseResponse {
  readonly command: CommandSet;
  /** The response's data set, already read (identifiers are small). */
  readonly dataset?: Buffer;
}

interface Waiter {
  onPending?: (r: DimseResponse) => void;
  resolve: (r: DimseResponse) => void;
  reject: (e: Error) => void;
}

export class DimseRequestor {
  readonly channel: DimseChannel;
  private readonly waiting = new Map<number, Waiter>();
  private inOrder: Promise<void> = Promise.resolve();

  /** Shares `channel` when given (an acceptor also sending requests, as C-GET does). */
  constructor(
    readonly association: Association,
    channel?: DimseChannel,
  ) {
    this.channel = channel ?? new DimseChannel(association);
    // Responses are handled in arrival order: a pending response's data set is read
    // asynchronously, and the final response must not overtake it.
    this.channel.on('message', (m: IncomingMessage) => {
      this.inOrder = this.inOrder.then(() => this.onMessage(m)).catch(() => undefined);
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

  /** Sends a request and resolves with its final (non-pending) response. */
  async request(
    contextId: number,
    command: Omit<CommandSet, 'messageId' | 'hasDataSet'>,
    dataset?: Buffer | AsyncIterable<Buffer>,
    onPending?: (r: DimseResponse) => void,
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
    return response;
  }

  private async onMessage(m: IncomingMessage): Promise<void> {
    // Requests to us belong to whoever serves them; their data sets are not ours to read.
    if (!isResponse(m.command.commandField)) return;
    let dataset: Buffer | undefined;
    if (m.dataset) {
      dataset = await readSmallDataSet(m.dataset);
    }
    const id = m.command.messageIdBeingRespondedTo ?? -1;
    const w = this.waiting.get(id);
    if (!w) return;
    const r: DimseResponse = { command: m.command, ...(dataset ? { dataset } : {}) };
    if (statusCategory(m.command.status ?? 0) === 'pending') {
      w.onPending?.(r);
      return;
    }
    this.waiting.delete(id);
    w.resolve(r);
  }
}
