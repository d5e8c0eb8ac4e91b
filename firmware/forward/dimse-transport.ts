// Forwarding to a DIMSE destination: many instances per association, one C-STORE per
// request, each file streamed from the cache verbatim (promise 2). It says what became of
// each instance; the queue runner decides what follows. A transfer that fails mid-message
// (abort, reset, timeout) ends the association: a new one, opened when the runner asks
// whether the destination works, tells the instance's fault from the destination's.
import { CodecError } from '../codec/jpeg-ls';
import type { DimseNodeConfig } from '../config/config';
import { nodeAddress } from '../config/config';
import type { EstablishedAssociation } from '../dicom/association';
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
import { proposeContexts, routeKey, sendInstance, type Routes } from '../services/store-sender';
import { CacheFileError } from '../../storage/cache-file';
import type { ForwardJob } from '../../storage/index';
import {
  TransientError,
  type ForwardDeps,
  type InstanceVerdict,
  type Outcome,
  type SendOptions,
  type Transport,
} from './transport';

interface OpenAssociation {
  readonly association: EstablishedAssociation;
  readonly requestor: DimseRequestor;
  readonly routes: Routes;
  /** The accepted Storage Commitment context, when the node is asked to commit. */
  readonly commitContextId?: number;
  sent: number;
}

export class DimseTransport implements Transport<DimseNodeConfig> {
  readonly worksWhen = 'took new associations';
  private open: OpenAssociation | null = null;
  /** The (SOP class, transfer syntax) pairs of the batch: the contexts to propose. */
  private keys: string[] = [];

  constructor(
    private node: DimseNodeConfig,
    private deps: ForwardDeps,
    /** The node as the box calls it now: AE titles, address, maximum PDU, timers. */
    private readonly peerOf: (node: DimseNodeConfig) => PeerAddress,
  ) {}

  get connected(): boolean {
    return this.open !== null;
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
      before.compress !== node.compress
    );
  }

  async prepare(jobs: readonly ForwardJob[]): Promise<void> {
    this.keys = [...new Set(jobs.map(routeKey))];
    await this.ensureAssociation();
  }

  requests(jobs: readonly ForwardJob[]): ForwardJob[][] {
    return jobs.map((job) => [job]);
  }

  async send(jobs: readonly ForwardJob[], options: SendOptions): Promise<Outcome> {
    const job = jobs[0]!; // one instance per C-STORE (see requests)
    const open = await this.ensureAssociation();
    const route = open.routes.get(routeKey(job));
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
      ({ status, comment } = await sendInstance(open.requestor, this.deps.cache, route, job, {
        peer: this.node.name,
        ...(compressed ? { compressed } : {}),
        ...(coerce ? { coerce } : {}),
        ...(options.through ? { through: options.through } : {}),
      }));
    } catch (err) {
      return this.failedSend(job, err as Error);
    }
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
    if (++open.sent >= this.deps.settings.instancesPerAssociation) await this.close();
    return answered(job, { kind: 'delivered', status });
  }

  /** A C-STORE that ended without a response: what it says of the instance. */
  private async failedSend(job: ForwardJob, err: Error): Promise<Outcome> {
    if (err instanceof CacheFileError) return answered(job, { kind: 'gone', reason: err.message });
    // When the association ended under the send, how it ended says more than the send's error.
    const association = this.open?.association;
    const ended = association?.state === 'Sta1' ? await association.closed() : undefined;
    const cause = ended && ended.kind !== 'released' ? ended.error : err;
    // The association is mid-message: it goes.
    await this.close(true);
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
    return { kind: 'broken', reason: cause.message, cause };
  }

  /** The destination works if it takes a new association (else TransientError says why). */
  async works(): Promise<boolean> {
    await this.ensureAssociation();
    return true;
  }

  /** C-ECHO on an association of its own (PS3.4 Annex A): the cheapest "are you there". */
  async probe(): Promise<boolean> {
    return (await echo(this.peerOf(this.node))) === Status.Success;
  }

  /** Asks the destination to commit to what it just accepted (PS3.4 J.3.2). */
  async delivered(jobs: readonly ForwardJob[]): Promise<void> {
    const open = this.open;
    if (!this.node.requestCommit) return;
    if (!open || open.association.state !== 'Sta6' || open.commitContextId === undefined) {
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

  /** Opens (or keeps) an association whose contexts cover every job of the batch. */
  private async ensureAssociation(): Promise<OpenAssociation> {
    const current = this.open;
    if (current?.association.state === 'Sta6' && this.keys.every((k) => current.routes.has(k)))
      return current;
    await this.close();
    const proposal = proposeContexts(this.keys, this.node.compress !== undefined);
    const commitContextId = this.node.requestCommit ? proposal.contexts.length * 2 + 1 : undefined;
    const contexts =
      commitContextId === undefined
        ? proposal.contexts
        : [...proposal.contexts, commitmentContext(commitContextId)];
    let association: EstablishedAssociation;
    try {
      association = await openAssociation(this.peerOf(this.node), contexts);
    } catch (err) {
      throw new TransientError(
        `cannot associate with ${nodeAddress(this.node)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const requestor = new DimseRequestor(association);
    this.takeReports(requestor);
    const commitAccepted =
      commitContextId !== undefined && association.info.contexts.has(commitContextId);
    this.open = {
      association,
      requestor,
      routes: proposal.routes(association),
      ...(commitAccepted ? { commitContextId } : {}),
      sent: 0,
    };
    log.info('forward association open', { dest: this.node.name, peer: nodeAddress(this.node) });
    return this.open;
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
    const open = this.open;
    this.open = null;
    if (!open) return;
    if (abort || open.association.state !== 'Sta6') {
      open.association.abort();
      return;
    }
    await open.association.release().catch(() => open.association.abort());
  }

  abortNow(): void {
    this.open?.association.abort();
  }
}

function answered(job: ForwardJob, verdict: InstanceVerdict): Outcome {
  return { kind: 'answered', verdicts: new Map([[job.pk, verdict]]) };
}
