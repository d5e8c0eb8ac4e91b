// What a forward destination speaks, as the queue runner sees it: a way to send a request
// of queued instances and say what became of each (DIMSE over associations, several
// requests at once; STOW-RS over HTTP, one at a time). The runner owns everything else: which jobs go, marks, backoff, probing,
// the compressed-then-as-it-is fallback and the isolation of an instance that fails alone.
import type { CompressionPlan } from '../codec/compress-instance';
import type { ForwardingConfig, NodeConfig } from '../config/config';
import type { ElementValue } from '../dicom/dataset/element-replacement';
import type { Cache } from '../../storage/cache';
import type { Archive } from '../../storage/archive';
import type { ForwardJob } from '../../storage/index';

/** What forwarding to a destination uses, as configured now. */
export interface ForwardDeps {
  readonly archive: Pick<Archive, 'queue' | 'instance' | 'commitments' | 'coercionFor'>;
  readonly cache: Cache;
  readonly settings: ForwardingConfig;
  /** Told when instances were delivered (storage commitment may now be granted). */
  readonly onDelivered?: () => void;
}

/**
 * A failure that is the destination's condition, not the instance's: back off. Its cause,
 * when it has one, is the error that tells which kind of failure (failure-kind.ts).
 */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** What the destination said of one instance of a request it answered (STOW-RS's judgement is one). */
export type InstanceVerdict =
  /** It took it: Success, or a warning (the status). */
  | { readonly kind: 'delivered'; readonly status: number }
  /** Refused for good (or the box cannot send it in any form the destination takes). */
  | {
      readonly kind: 'failed';
      readonly status: number | null;
      readonly reason: string;
      /**
       * The destination said it does not take the transfer syntax the instance went in
       * (STOW-RS Failure Reason 0xC122, or HTTP 415 to a request of this one instance).
       */
      readonly syntaxRefused?: true;
    }
  /** Not now (out of resources): the destination's condition, tried again after a backoff. */
  | { readonly kind: 'retry'; readonly status?: number; readonly reason: string }
  /** Its cache file could not be read. */
  | { readonly kind: 'gone'; readonly reason: string };

/** How a request ended. */
export type Outcome =
  /** Answered, a verdict per instance (by job pk); an instance without one was not sent. */
  | { readonly kind: 'answered'; readonly verdicts: ReadonlyMap<number, InstanceVerdict> }
  /**
   * The transfer failed (abort, reset, silence): the instance or the destination to blame.
   * `shared`: other requests were outstanding on the same association when it ended, and
   * any of them may be to blame.
   */
  | {
      readonly kind: 'broken';
      readonly reason: string;
      readonly cause?: unknown;
      readonly shared?: true;
    }
  /** Refused as a whole without a word per instance: one of them may be to blame. */
  | { readonly kind: 'isolate'; readonly reason: string }
  /** The box's compression failed: the compressed instances are to go as they are. */
  | { readonly kind: 'codec'; readonly reason: string };

/** What the runner gives a request: the compression plans, the coercions, the bandwidth cap. */
export interface SendOptions {
  /** The plan of a job that is to go compressed (when the destination takes it so), or undefined. */
  plan(job: ForwardJob): Promise<CompressionPlan | undefined>;
  /** The elements a job's forwarded copy carries instead of its own (a worklist rule), or undefined. */
  coercion(job: ForwardJob): Promise<readonly ElementValue[] | undefined>;
  /** The node's bandwidth cap, shared by every request to it. */
  readonly through?: (data: AsyncIterable<Buffer>) => AsyncIterable<Buffer>;
  /**
   * Sent with nothing else outstanding beside it on its connection: when it breaks, it
   * alone is to blame (an instance sent again after a transfer that broke with others).
   */
  readonly alone?: boolean;
}

export interface Transport<N extends NodeConfig> {
  /** An association (or an HTTP connection) is open: the runner's idle timer runs. */
  readonly connected: boolean;
  /** How many connections are open (associations; an HTTP client counts one). */
  readonly connections: number;
  /**
   * Requests the runner may have going at once (read after prepare): DIMSE, the
   * associations the destination takes × the operations window it granted; STOW-RS, 1.
   */
  readonly parallel: number;
  /** How the destination was seen to work while an instance failed, for the failure's reason. */
  readonly worksWhen: string;
  /** A new configuration; returns whether the node is now another peer (reconnect). */
  reconfigure(node: N, deps: ForwardDeps): boolean;
  /** Before a batch: DIMSE opens an association whose contexts cover all of it. */
  prepare(jobs: readonly ForwardJob[]): Promise<void>;
  /** The batch cut into requests: one instance per C-STORE, many per STOW-RS request. */
  requests(jobs: readonly ForwardJob[]): ForwardJob[][];
  /** Sends a request; throws TransientError for the destination's trouble. */
  send(jobs: readonly ForwardJob[], options: SendOptions): Promise<Outcome>;
  /**
   * After a transfer that broke at `since` (ms): whether the destination works otherwise
   * (answered since on another association, takes a new one, answers a query). May throw
   * TransientError saying why not.
   */
  works(jobs: readonly ForwardJob[], since: number): Promise<boolean>;
  /** Whether the destination answers a cheap check now (C-ECHO, a QIDO-RS query). */
  probe(): Promise<boolean>;
  /** After a batch, with the jobs delivered with Success (storage commitment). */
  delivered(jobs: readonly ForwardJob[]): Promise<void>;
  /** Ends the connection: released, or at once (abort). */
  close(abort?: boolean): Promise<void>;
  /** Stopping and the destination hangs: cut the transfer in flight. */
  abortNow(): void;
}
