// The forwarding side of the box: one queue runner per node with "forward": true, over
// the transport the node speaks (DIMSE or STOW-RS), woken when new jobs are committed,
// started on boot (so jobs left by a crash resume).
import {
  isDimse,
  UnknownNodeError,
  type Config,
  type DicomwebNodeConfig,
  type DimseNodeConfig,
  type NodeConfig,
} from '../config/config';
import { queryOnce, queryWorks } from '../dicomweb/dicomweb-client';
import { Status } from '../dicom/dimse/status';
import { echo } from '../services/echo-scu';
import { nodePeer } from '../services/open-association';
import type { Cache } from '../../storage/cache';
import type { Archive } from '../../storage/archive';
import type { DestinationSummary, FailedJob, RetryFilter } from '../../storage/index';
import type { RoutingFacts } from '../../storage/instance-store';
import { DimseTransport } from './dimse-transport';
import { QueueRunner, type DestinationStatus } from './queue-runner';
import { routeInstance } from './routing';
import { StowTransport } from './stow-transport';
import type { ForwardDeps } from './transport';

export interface DestinationReport
  extends DestinationStatus, Omit<DestinationSummary, 'destination' | 'lastError'> {
  /** Age in seconds of the oldest instance still waiting for this destination. */
  readonly oldestWaitingSeconds: number | null;
  readonly lastJobError: string | null;
}

/** Whether a retry (or an echo) ended a destination's backoff. */
export interface BackoffEnded {
  readonly destination: string;
  readonly ended: boolean;
}

/** A destination's runner, by the protocol it speaks (a change of protocol is a new runner). */
type Runner =
  | { readonly dimse: true; readonly runner: QueueRunner<DimseNodeConfig> }
  | { readonly dimse: false; readonly runner: QueueRunner<DicomwebNodeConfig> };

export class Forwarder {
  private readonly workers = new Map<string, Runner>();
  /** Runners of removed nodes, still finishing their instance in flight. */
  private readonly stopping = new Map<string, Promise<void>>();

  constructor(
    private config: Config,
    private readonly archive: Pick<Archive, 'queue' | 'instance' | 'commitments' | 'coercionFor'>,
    private readonly cache: Cache,
    /** Told when instances were delivered (storage commitment may now be granted). */
    private readonly onDelivered: () => void = () => undefined,
  ) {}

  start(): void {
    this.apply(this.config);
  }

  /** Applies a (new) configuration: runners for forward nodes appear, change or go. */
  apply(config: Config): void {
    this.config = config;
    const wanted = new Map(config.nodes.filter((n) => n.forward).map((n) => [n.name, n]));
    for (const [name, worker] of this.workers) {
      // Gone, or now speaking the other protocol: this runner ends, another may start.
      const node = wanted.get(name);
      if (!node || isDimse(node) !== worker.dimse) {
        const stopped = worker.runner.stop().finally(() => {
          if (this.stopping.get(name) === stopped) this.stopping.delete(name);
        });
        this.stopping.set(name, stopped);
        this.workers.delete(name);
      }
    }
    const deps: ForwardDeps = {
      archive: this.archive,
      cache: this.cache,
      settings: config.forwarding,
      onDelivered: this.onDelivered,
    };
    for (const [name, node] of wanted) {
      const existing = this.workers.get(name);
      if (existing?.dimse && isDimse(node)) existing.runner.reconfigure(node, deps);
      else if (existing && !existing.dimse && !isDimse(node))
        existing.runner.reconfigure(node, deps);
      else this.startRunner(name, this.runnerFor(node, deps));
    }
  }

  private runnerFor(node: NodeConfig, deps: ForwardDeps): Runner {
    if (!isDimse(node))
      return { dimse: false, runner: new QueueRunner(node, deps, new StowTransport(node, deps)) };
    // The box's own AE title and timers are read when it calls: a change applies at once.
    const transport = new DimseTransport(node, deps, (n) => nodePeer(this.config, n));
    return { dimse: true, runner: new QueueRunner(node, deps, transport) };
  }

  private startRunner(name: string, worker: Runner): void {
    this.workers.set(name, worker);
    // A node removed and added back must not have two runners sending the same jobs.
    const previous = this.stopping.get(name);
    if (previous)
      void previous.then(() => this.workers.get(name) === worker && worker.runner.start());
    else worker.runner.start();
  }

  /** The routing decision for a newly received instance. */
  route(facts: RoutingFacts): string[] {
    return routeInstance(this.config.nodes, facts);
  }

  wake(destinations: readonly string[]): void {
    for (const d of destinations) this.workers.get(d)?.runner.wake();
  }

  /**
   * An operator's "retry now": requeues failed jobs (by destination, SOP instance, study)
   * and ends the backoff of the destination named, or of every destination. Says, of the
   * one named, whether it was backing off; else names those whose backoff ended.
   */
  async retry(filter: RetryFilter = {}): Promise<{
    requeued: Array<{ sopInstanceUid: string; destination: string }>;
    backoffs: BackoffEnded[];
  }> {
    const { destination } = filter;
    if (destination !== undefined && !this.config.nodes.some((n) => n.name === destination)) {
      throw new UnknownNodeError(destination, this.config.nodes);
    }
    const requeued = await this.archive.queue.requeueFailed(filter);
    if (destination !== undefined) {
      const ended = this.workers.get(destination)?.runner.retryNow() ?? false;
      return { requeued, backoffs: [{ destination, ended }] };
    }
    const backoffs: BackoffEnded[] = [];
    for (const [name, worker] of this.workers)
      if (worker.runner.retryNow()) backoffs.push({ destination: name, ended: true });
    return { requeued, backoffs };
  }

  /**
   * The node answered an echo (the box's, or a command's in its own process): a backoff
   * towards it ends now. Whether one did (false for a node the box does not forward to).
   */
  answered(name: string): boolean {
    return this.workers.get(name)?.runner.retryNow(`${name} answered an echo`) ?? false;
  }

  /** Jobs failed for good, most recent first. */
  failed(destination?: string, limit = 200): Promise<FailedJob[]> {
    if (destination !== undefined && !this.config.nodes.some((n) => n.name === destination)) {
      throw new UnknownNodeError(destination, this.config.nodes);
    }
    return this.archive.queue.failedJobs(destination, limit);
  }

  /**
   * A health check of a node for the control API: C-ECHO, or for a DICOMweb node one
   * QIDO-RS query with its credentials (an HTTP error is thrown, with its status).
   */
  async echo(name: string): Promise<{ status: number; backoffEnded: boolean }> {
    const node = this.config.nodes.find((n) => n.name === name);
    if (!node) throw new UnknownNodeError(name, this.config.nodes);
    const status = isDimse(node)
      ? await echo(nodePeer(this.config, node))
      : await dicomwebEcho(node);
    return { status, backoffEnded: status === Status.Success && this.answered(name) };
  }

  async report(): Promise<DestinationReport[]> {
    const summaries = new Map(
      (await this.archive.queue.forwardSummary()).map((s) => [s.destination, s]),
    );
    const now = Date.now();
    return [...this.workers.values()].map((w) => {
      const status = w.runner.status();
      const s = summaries.get(status.name);
      return {
        ...status,
        queued: s?.queued ?? 0,
        done: s?.done ?? 0,
        failed: s?.failed ?? 0,
        setAside: s?.setAside ?? 0,
        oldestQueuedAt: s?.oldestQueuedAt ?? null,
        lastDoneAt: s?.lastDoneAt ?? null,
        oldestWaitingSeconds: s?.oldestQueuedAt
          ? Math.round((now - Date.parse(s.oldestQueuedAt)) / 1000)
          : null,
        // An error older than the last delivery is history: the destination works since.
        lastJobError:
          s?.lastError && !(s.lastDoneAt && s.lastErrorAt && s.lastErrorAt < s.lastDoneAt)
            ? s.lastError
            : null,
        lastErrorAt: s?.lastErrorAt ?? null,
        lastFailedSop: s?.lastFailedSop ?? null,
        lastFailedAt: s?.lastFailedAt ?? null,
        lastFailedError: s?.lastFailedError ?? null,
      };
    });
  }

  async stop(): Promise<void> {
    await Promise.all([
      ...[...this.workers.values()].map((w) => w.runner.stop()),
      ...this.stopping.values(),
    ]);
  }
}

async function dicomwebEcho(node: DicomwebNodeConfig): Promise<number> {
  const status = await queryOnce(node);
  if (!queryWorks(status))
    throw new Error(
      `${node.url} answered HTTP ${status}${status === 401 || status === 403 ? ' (credentials refused)' : ''}`,
    );
  return 0;
}
