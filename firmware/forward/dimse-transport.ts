// Forwarding to a DIMSE destination: one C-STORE per request, each file streamed from the
// cache verbatim (promise 2), over several associations at once with as many requests
// outstanding on each as the destination granted (association-pool.ts). It says what
// became of each instance; the queue runner decides what follows. A transfer that fails
// mid-message (abort, reset, timeout) ends its association: a response on another since,
// or a new association, tells the instance's fault from the destination's.
import { CodecError } from '../codec/jpeg-ls';
import { FORWARD_PARALLELISM, nodeAddress, type DimseNodeConfig } from '../config/config';
import { operationsWindow } from '../dicom/acse';
import { CommandField } from '../dicom/dimse/command-field';
import type { IncomingMessage } from '../dicom/dimse/dimse-channel';
import { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { formatStatus, Status, verdictForStatus } from '../dicom/dimse/status';
import { ElementReplacementError } from '../dicom/dataset/element-replacement';
import { DatasetParseError } from '../dicom/errors';
import { log } from '../log';
import { receiveCommitReport } from '../services/commitment/commitment-report-scp';
import {
  commitmentContext,
  newTransactionUid,
  sendCommitmentRequest,
} from '../services/commitment/commitment-scu';
import { echo } from '../services/echo-scu';
import { openAssociation, type PeerAddress } from '../services/open-association';
import { proposeContexts, routeKey, sendInstance } from '../services/store-sender';
import { CacheFileError } from '../../storage/cache-file';
import type { ForwardJob } from '../../storage/index';
import { AssociationPool, type ForwardAssociation, type Lease } from './association-pool';
import {
  TransientError,
  type ForwardDeps,
  type InstanceVerdict,
  type Outcome,
  type SendOptions,
  type Transport,
} from './transport';

export class DimseTransport implements Transport<DimseNodeConfig> {
  readonly worksWhen = 'took new associations';
  private readonly pool: AssociationPool;
  /** The (SOP class, transfer syntax) pairs of the batch: the contexts to propose. */
  private keys: string[] = [];
  /** When the destination last showed it works: an association opened, a response came. */
  private lastAnswerAt = 0;

  constructor(
    private node: DimseNodeConfig,
    private deps: ForwardDeps,
    /** The node as the box calls it now: AE titles, address, maximum PDU, timers. */
    private readonly peerOf: (node: DimseNodeConfig) => PeerAddress,
  ) {
    this.pool = new AssociationPool(
      () => ({
        limit: this.node.associations ?? FORWARD_PARALLELISM.associations,
        perAssociation: this.deps.settings.instancesPerAssociation,
      }),
      () => this.openOne(),
      (fewer) =>
        log.warn('destination takes fewer associations: going on with those open', {
          dest: this.node.name,
          open: fewer.open,
          wanted: this.node.associations ?? FORWARD_PARALLELISM.associations,
          reason: fewer.reason,
        }),
    );
  }

  get connected(): boolean {
    return this.pool.size > 0;
  }

  get connections(): number {
    return this.pool.size;
  }

  /**
   * Requests the runner may have going: the associations the destination may be asked for ×
   * the window it granted (known once one is open, as it is after prepare). More would only
   * wait for a place, and be counted in flight while they do.
   */
  get parallel(): number {
    const granted = this.pool.associations[0]?.window ?? this.proposedWindow();
    return this.pool.allowed * granted;
  }

  reconfigure(node: DimseNodeConfig, deps: ForwardDeps): boolean {
    const before = this.node;
    this.node = node;
    this.deps = deps;
    return (
      before.ae !== node.ae ||
      before.host !== node.host ||
      before.port !== node.port ||
      before.requestCommit !== node.requestCommit ||
      before.compress !== node.compress ||
      before.asyncOperations !== node.asyncOperations
    );
  }

  /**
   * Before a batch (nothing is in flight): associations whose contexts do not cover it are
   * released, and one at least is open (else the destination is in trouble).
   */
  async prepare(jobs: readonly ForwardJob[]): Promise<void> {
    this.keys = [...new Set(jobs.map(routeKey))];
    if (this.pool.associations.some((a) => !this.keys.every((k) => a.routes.has(k))))
      await this.pool.close();
    await this.ready();
  }

  requests(jobs: readonly ForwardJob[]): ForwardJob[][] {
    return jobs.map((job) => [job]);
  }

  async send(jobs: readonly ForwardJob[], options: SendOptions): Promise<Outcome> {
    const job = jobs[0]!; // one instance per C-STORE (see requests)
    let lease: Lease;
    try {
      lease = await this.pool.lease(options.alone === true);
    } catch (err) {
      throw this.cannotAssociate(err);
    }
    try {
      return await this.sendOn(lease, job, options);
    } finally {
      lease.release();
    }
  }

  private async sendOn(lease: Lease, job: ForwardJob, options: SendOptions): Promise<Outcome> {
    const route = lease.open.routes.get(routeKey(job));
    if (!route)
      return answered(job, {
        kind: 'failed',
        status: null,
        reason: `${this.node.name} does not accept SOP class ${job.sopClassUid} in ${job.transferSyntaxUid}`,
      });
    const compressed =
      route.compressedContextId !== undefined ? await options.plan(job) : undefined;
    const coerce = await options.coercion(job);
    let status: number;
    let comment: string | undefined;
    try {
      ({ status, comment } = await sendInstance(lease.open.requestor, this.deps.cache, route, job, {
        peer: this.node.name,
        ...(compressed ? { compressed } : {}),
        ...(coerce ? { coerce } : {}),
        ...(options.through ? { through: options.through } : {}),
      }));
    } catch (err) {
      return this.failedSend(lease, job, err as Error);
    }
    this.lastAnswerAt = Date.now();
    const verdict = verdictForStatus(status);
    if (verdict === 'transient')
      return answered(job, {
        kind: 'retry',
        status,
        reason: `${this.node.name} answered ${formatStatus(status)}`,
      });
    if (verdict === 'permanent')
      return answered(job, {
        kind: 'failed',
        status,
        reason: `${this.node.name} refused it: status ${formatStatus(status)}${comment ? ` (${comment})` : ''}`,
      });
    return answered(job, { kind: 'delivered', status });
  }

  /** A C-STORE that ended without a response: what it says of the instance. */
  private async failedSend(lease: Lease, job: ForwardJob, err: Error): Promise<Outcome> {
    if (err instanceof CacheFileError) return answered(job, { kind: 'gone', reason: err.message });
    // When the association ended under the send, how it ended says more than the send's error.
    const { association } = lease.open;
    const ended = association.state === 'Sta1' ? await association.closed() : undefined;
    const cause = ended && ended.kind !== 'released' ? ended.error : err;
    // The association is mid-message: it goes (and the others outstanding on it with it).
    this.pool.abort(lease.open);
    if (err instanceof DatasetParseError)
      return answered(job, {
        kind: 'failed',
        status: null,
        reason: `cannot transcode for ${this.node.name}: ${err.message}`,
      });
    if (err instanceof ElementReplacementError)
      return answered(job, {
        kind: 'failed',
        status: null,
        reason: `cannot coerce for ${this.node.name}: ${err.message}`,
      });
    if (err instanceof CodecError) return { kind: 'codec', reason: err.message };
    return {
      kind: 'broken',
      reason: cause.message,
      cause,
      ...(lease.shared ? { shared: true as const } : {}),
    };
  }

  /**
   * The destination works if it answered since the transfer broke, on any association, or
   * takes a new one now (else TransientError says why).
   */
  async works(_jobs: readonly ForwardJob[], since: number): Promise<boolean> {
    if (this.lastAnswerAt > since) return true;
    await this.ready(true);
    return true;
  }

  /** C-ECHO on an association of its own (PS3.4 Annex A): the cheapest "are you there". */
  async probe(): Promise<boolean> {
    return (await echo(this.peerOf(this.node))) === Status.Success;
  }

  /** Asks the destination to commit to what it just accepted (PS3.4 J.3.2). */
  async delivered(jobs: readonly ForwardJob[]): Promise<void> {
    if (!this.node.requestCommit) return;
    const open = this.pool.associations.find(
      (a) => a.association.state === 'Sta6' && a.commitContextId !== undefined,
    );
    if (!open || open.commitContextId === undefined) {
      log.warn('storage commitment not requested: no commitment context with the destination', {
        dest: this.node.name,
      });
      return;
    }
    const transactionUid = newTransactionUid();
    try {
      // Recorded first: the report may come back on another association before the response.
      await this.deps.archive.queue.markCommitRequested(
        jobs.map((j) => j.pk),
        transactionUid,
      );
      await sendCommitmentRequest(
        open.association,
        open.requestor,
        open.commitContextId,
        transactionUid,
        jobs,
      );
      log.info('storage commitment requested', {
        dest: this.node.name,
        transaction: transactionUid,
        instances: jobs.length,
      });
    } catch (err) {
      log.warn('storage commitment request failed', {
        dest: this.node.name,
        reason: (err as Error).message,
      });
    }
  }

  /** One association at least (`fresh`: a new one), or TransientError saying why not. */
  private async ready(fresh = false): Promise<void> {
    try {
      if (fresh) await this.pool.fresh();
      else await this.pool.ready();
    } catch (err) {
      throw this.cannotAssociate(err);
    }
  }

  /**
   * Opens an association whose contexts cover every job of the batch, proposing the
   * node's operations window; what the destination granted is what it is used with.
   */
  private async openOne(): Promise<ForwardAssociation> {
    const proposal = proposeContexts(this.keys, this.node.compress !== undefined);
    const commitContextId = this.node.requestCommit ? proposal.contexts.length * 2 + 1 : undefined;
    const contexts =
      commitContextId === undefined
        ? proposal.contexts
        : [...proposal.contexts, commitmentContext(commitContextId)];
    const association = await openAssociation(
      this.peerOf(this.node),
      contexts,
      [],
      this.proposedWindow(),
    );
    this.lastAnswerAt = Date.now();
    const requestor = new DimseRequestor(association);
    this.takeReports(requestor);
    const commitAccepted =
      commitContextId !== undefined && association.info.contexts.has(commitContextId);
    const window = operationsWindow(association.info);
    log.info('forward association open', {
      dest: this.node.name,
      peer: nodeAddress(this.node),
      open: this.pool.size + 1,
      window,
    });
    return {
      association,
      requestor,
      routes: proposal.routes(association),
      ...(commitAccepted ? { commitContextId } : {}),
      window: Math.min(window, this.proposedWindow()),
    };
  }

  /** The destination's trouble opening an association; its cause tells the failure kind. */
  private cannotAssociate(err: unknown): TransientError {
    return new TransientError(
      `cannot associate with ${nodeAddress(this.node)}: ${(err as Error).message}`,
      { cause: err },
    );
  }

  private proposedWindow(): number {
    return this.node.asyncOperations ?? FORWARD_PARALLELISM.asyncOperations;
  }

  /** Some destinations report a commitment on the association that asked for it. */
  private takeReports(requestor: DimseRequestor): void {
    requestor.channel.on('message', (m: IncomingMessage) => {
      if (m.command.commandField !== CommandField.NEventReportRq) return;
      void receiveCommitReport(this.deps.archive, m, this.node.name)
        .then((rsp) => requestor.channel.send(m.context.id, { ...rsp, hasDataSet: false }))
        .catch(() => undefined);
    });
  }

  async close(abort = false): Promise<void> {
    await this.pool.close(abort);
  }

  abortNow(): void {
    this.pool.abortNow();
  }
}

function answered(job: ForwardJob, verdict: InstanceVerdict): Outcome {
  return { kind: 'answered', verdicts: new Map([[job.pk, verdict]]) };
}
