// Forwarding to a DIMSE destination: many instances per association, each file streamed
// from the cache verbatim (promise 2). A destination that refuses an instance for good
// (SOP class not accepted, A9xx, Cxxx) fails that job with the reason and the rest goes
// on. An instance whose transfer itself fails (abort, reset, timeout) while the
// destination otherwise works is set aside and tried again later, then failed: one bad
// instance never stalls the queue behind it.
import { compressionFor, type CompressionPlan } from '../codec/compress-instance';
import type { DimseNodeConfig } from '../config/config';
import type { EstablishedAssociation } from '../dicom/association';
import { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { formatStatus, Status, verdictForStatus } from '../dicom/dimse/status';
import { DatasetParseError } from '../dicom/errors';
import { encodeDataset } from '../dicom/dataset/dataset-writer';
import { CommandField } from '../dicom/dimse/command-field';
import type { IncomingMessage } from '../dicom/dimse/dimse-channel';
import { nActionRq } from '../dicom/dimse/n-messages';
import { PresentationContextResult } from '../dicom/pdu';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../dicom/registry/transfer-syntaxes';
import { log } from '../log';
import {
  actionInformation,
  REQUEST_STORAGE_COMMITMENT,
  STORAGE_COMMITMENT_INSTANCE,
  STORAGE_COMMITMENT_SOP_CLASS,
} from '../services/commitment/commitment';
import { receiveCommitReport } from '../services/commitment/commitment-report-scp';
import { newTransactionUid } from '../services/commitment/commitment-scu';
import { proposeContexts, routeKey, sendInstance, type Routes } from '../services/store-sender';
import { CacheFileError } from '../../storage/cache-file';
import { echo } from '../services/echo-scu';
import { openAssociation, type PeerAddress } from '../services/open-association';
import type { ForwardJob } from '../../storage/index';
import { DestinationWorker, TransientError, type WorkerDeps } from './destination-worker';

export interface DimseWorkerDeps extends WorkerDeps {
  /** The node as the box calls it: AE titles, address, maximum PDU, timers. */
  readonly peer: PeerAddress;
}

interface OpenAssociation {
  readonly association: EstablishedAssociation;
  readonly requestor: DimseRequestor;
  readonly routes: Routes;
  /** The accepted Storage Commitment context, when the node is asked to commit. */
  readonly commitContextId?: number;
  sent: number;
}

/** More instances than this failing in transfer one after another: the destination's fault. */
const SUSPECTS_IN_A_ROW = 2;

export class DimseWorker extends DestinationWorker<DimseNodeConfig, DimseWorkerDeps> {
  private open: OpenAssociation | null = null;
  /** Instances whose transfer failed since the last one delivered. */
  private suspectsInARow = 0;
  /** Instances to send as they are: the destination refused them compressed. */
  private readonly asTheyAre = new Set<string>();

  protected get connected(): boolean {
    return this.open !== null;
  }

  protected abortNow(): void {
    this.open?.association.abort();
  }

  protected peerChanged(before: DimseNodeConfig, after: DimseNodeConfig): boolean {
    return (
      before.ae !== after.ae ||
      before.host !== after.host ||
      before.port !== after.port ||
      before.requestCommit !== after.requestCommit ||
      before.compress !== after.compress
    );
  }

  /** C-ECHO on an association of its own (PS3.4 Annex A): the cheapest "are you there". */
  protected async probe(): Promise<boolean> {
    return (await echo(this.deps.peer)) === Status.Success;
  }

  protected async sendJobs(jobs: readonly ForwardJob[], delivered: number[]): Promise<void> {
    await this.ensureAssociation(jobs);
    for (const job of jobs) {
      if (!this.running || this.stale) return;
      const open = this.open!;
      const route = open.routes.get(routeKey(job));
      if (!route) {
        await this.fail(
          job,
          null,
          `${this.node.name} does not accept SOP class ${job.sopClassUid} in ${job.transferSyntaxUid}`,
        );
        continue;
      }
      this.inFlight = job.sopInstanceUid;
      const started = Date.now();
      let status: number;
      let comment: string | undefined;
      log.debug('forwarding', {
        dest: this.node.name,
        sop: job.sopInstanceUid,
        attempt: job.attempts + 1,
        ts: route.transferSyntax,
      });
      const compressed = await this.compression(route.compressedContextId, job);
      try {
        ({ status, comment } = await sendInstance(open.requestor, this.deps.cache, route, job, {
          peer: this.node.name,
          ...(compressed ? { compressed } : {}),
          ...(this.node.maxBytesPerSecond ? { through: (d) => this.limited(d) } : {}),
        }));
      } catch (err) {
        if (err instanceof CacheFileError) {
          await this.fileGone(job, err.message);
          continue;
        }
        if (err instanceof DatasetParseError) {
          // The instance itself cannot be transcoded: the association is mid-message, so
          // it goes; the job fails for good; the rest of the batch goes on.
          await this.closeConnection(true);
          await this.fail(job, null, `cannot transcode for ${this.node.name}: ${err.message}`);
          await this.ensureAssociation(jobs);
          continue;
        }
        await this.suspect(job, (err as Error).message, jobs);
        continue;
      } finally {
        this.inFlight = null;
      }
      this.suspectsInARow = 0;
      const verdict = verdictForStatus(status);
      if (verdict === 'transient') {
        await this.deps.index.queue.noteAttempt(job.pk, `status ${formatStatus(status)}`, status);
        throw new TransientError(`${this.node.name} answered ${formatStatus(status)}`);
      }
      if (verdict === 'permanent' && compressed) {
        // Refused compressed: it stays queued and goes as it is in the next batch.
        this.asTheyAre.add(job.sopInstanceUid);
        await this.deps.index.queue.noteAttempt(
          job.pk,
          `refused compressed: ${formatStatus(status)}`,
          status,
        );
        log.warn('refused compressed: sending it as it is', {
          dest: this.node.name,
          sop: job.sopInstanceUid,
          status: formatStatus(status),
        });
        continue;
      }
      if (verdict === 'permanent') {
        await this.fail(
          job,
          status,
          `${this.node.name} refused it: status ${formatStatus(status)}${comment ? ` (${comment})` : ''}`,
        );
        continue;
      }
      await this.accepted(job, status, delivered, started);
      if (++open.sent >= this.deps.settings.instancesPerAssociation) await this.closeConnection();
      if (!this.open && job !== jobs[jobs.length - 1]) await this.ensureAssociation(jobs);
    }
  }

  /** The compression plan for a job, when the node asks and the destination took JPEG-LS. */
  private async compression(
    contextId: number | undefined,
    job: ForwardJob,
  ): Promise<CompressionPlan | undefined> {
    if (!this.node.compress || contextId === undefined || this.asTheyAre.has(job.sopInstanceUid))
      return undefined;
    return compressionFor(this.deps.cache, job, this.node.name);
  }

  /**
   * The transfer of one instance ended badly: the association aborted or reset, or no
   * response came. Whether the instance or the destination is to blame, a new association
   * tells. If the destination does not take one, it is down: back off, the instance is not
   * charged. If it does, the instance is a suspect: set aside for a while (the rest of the
   * queue flows), and failed with the reason once its tries are spent. Several different
   * instances failing in a row is the destination's trouble, not theirs: back off.
   */
  private async suspect(
    job: ForwardJob,
    error: string,
    jobs: readonly ForwardJob[],
  ): Promise<void> {
    // When the association ended under the send, how it ended says more than the send's error.
    const association = this.open?.association;
    const ended = association?.state === 'Sta1' ? await association.closed() : undefined;
    const reason = ended && ended.kind !== 'released' ? ended.error.message : error;
    const detail = `${reason} (while sending ${job.sopInstanceUid})`;
    await this.closeConnection(true);
    // Stopping (the send was cut short on purpose): the job stays queued, uncharged.
    if (!this.running) return;
    if (++this.suspectsInARow > SUSPECTS_IN_A_ROW) {
      await this.deps.index.queue.noteAttempt(job.pk, detail);
      throw new TransientError(
        `${this.suspectsInARow} instances in a row failed in transfer, the last: ${detail}`,
      );
    }
    try {
      await this.ensureAssociation(jobs);
    } catch (err) {
      await this.deps.index.queue.noteAttempt(job.pk, detail);
      throw err;
    }
    await this.setAsideOrFail(job, detail, `${this.node.name} took new associations`);
  }

  /** Asks the destination to commit to what it just accepted (PS3.4 J.3.2). */
  protected override async afterDelivery(
    jobs: readonly ForwardJob[],
    delivered: readonly number[],
  ): Promise<void> {
    const open = this.open;
    if (!this.node.requestCommit) return;
    if (!open || open.association.state !== 'Sta6' || open.commitContextId === undefined) {
      log.warn('storage commitment not requested: no commitment context with the destination', {
        dest: this.node.name,
      });
      return;
    }
    const byPk = new Map(jobs.map((j) => [j.pk, j]));
    const items = delivered.map((pk) => byPk.get(pk)!);
    const transactionUid = newTransactionUid();
    const elements = actionInformation(transactionUid, items);
    try {
      // Recorded first: the report may come back on another association before the response.
      await this.deps.index.queue.markCommitRequested(delivered, transactionUid);
      const rsp = await open.requestor.request(
        open.commitContextId,
        nActionRq(
          STORAGE_COMMITMENT_SOP_CLASS,
          STORAGE_COMMITMENT_INSTANCE,
          REQUEST_STORAGE_COMMITMENT,
          0,
        ),
        encodeDataset(elements, { explicitVr: true, littleEndian: true }),
      );
      if (rsp.command.status !== 0)
        throw new Error(`N-ACTION answered ${formatStatus(rsp.command.status ?? 0xffff)}`);
      log.info('storage commitment requested', {
        dest: this.node.name,
        transaction: transactionUid,
        instances: items.length,
      });
    } catch (err) {
      log.warn('storage commitment request failed', {
        dest: this.node.name,
        reason: (err as Error).message,
      });
    }
  }

  /** Opens (or keeps) an association whose contexts cover every job of the batch. */
  private async ensureAssociation(jobs: readonly ForwardJob[]): Promise<void> {
    const keys = [...new Set(jobs.map(routeKey))];
    if (
      this.open &&
      this.open.association.state === 'Sta6' &&
      keys.every((k) => this.open!.routes.has(k))
    )
      return;
    await this.closeConnection();
    const proposal = proposeContexts(keys, this.node.compress !== undefined);
    const commitContextId = this.node.requestCommit ? proposal.contexts.length * 2 + 1 : undefined;
    const contexts =
      commitContextId === undefined
        ? proposal.contexts
        : [
            ...proposal.contexts,
            // Explicit VR LE only: the action information is encoded that way.
            {
              id: commitContextId,
              abstractSyntax: STORAGE_COMMITMENT_SOP_CLASS,
              transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
            },
          ];
    let association: EstablishedAssociation;
    try {
      association = await openAssociation(this.deps.peer, contexts);
    } catch (err) {
      throw new TransientError(
        `cannot associate with ${this.node.ae}@${this.node.host}:${this.node.port}: ${(err as Error).message}`,
      );
    }
    const requestor = new DimseRequestor(association);
    // Some destinations report a commitment on the association that asked for it.
    requestor.channel.on('message', (m: IncomingMessage) => {
      if (m.command.commandField !== CommandField.NEventReportRq) return;
      void receiveCommitReport(this.deps.index, m, this.node.name)
        .then((rsp) => requestor.channel.send(m.context.id, { ...rsp, hasDataSet: false }))
        .catch(() => undefined);
    });
    const commitAccepted =
      commitContextId !== undefined &&
      association.info.ac.presentationContexts.some(
        (pc) => pc.id === commitContextId && pc.result === PresentationContextResult.Acceptance,
      );
    this.open = {
      association,
      requestor,
      routes: proposal.routes(association),
      ...(commitAccepted ? { commitContextId } : {}),
      sent: 0,
    };
    log.info('forward association open', {
      dest: this.node.name,
      peer: `${this.node.ae}@${this.node.host}:${this.node.port}`,
    });
  }

  protected async closeConnection(abort = false): Promise<void> {
    const open = this.open;
    this.open = null;
    if (!open) return;
    if (abort || open.association.state !== 'Sta6') {
      open.association.abort();
      return;
    }
    await open.association.release().catch(() => open.association.abort());
  }
}
