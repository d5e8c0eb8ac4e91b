// One worker per forward destination (PRODUCT.md: one dead destination never blocks
// another). It takes queued jobs oldest study first, sends many instances per
// association, streams each file from the cache verbatim (promise 2), and on transient
// trouble backs off for the whole destination with capped exponential delay, forever.
// A destination that refuses an instance for good (SOP class not accepted, A9xx, Cxxx)
// fails that job with the reason and goes on with the rest. An instance whose transfer
// itself fails (abort, reset, timeout) while the destination otherwise works is set aside
// and tried again later, then failed: one bad instance never stalls the queue behind it.
import type { ForwardingConfig, NodeConfig } from '../config/config';
import type { EstablishedAssociation } from '../dicom/association';
import { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { formatStatus } from '../dicom/dimse/status';
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
import {
  CacheFileError,
  proposeContexts,
  routeKey,
  sendInstance,
  type Routes,
} from '../services/store-sender';
import { openAssociation, type PeerAddress } from '../services/open-association';
import type { Cache } from '../../storage/cache';
import type { ForwardJob, Index } from '../../storage/index';
import { backoffDelay } from './backoff';
import { RateLimiter } from './throttle';
import { verdictForStatus } from './failure';

export interface WorkerDeps {
  readonly index: Index;
  readonly cache: Cache;
  /** The node as the box calls it: AE titles, address, maximum PDU, timers. */
  readonly peer: PeerAddress;
  readonly settings: ForwardingConfig;
  readonly onDelivered?: () => void;
}

export interface WorkerStatus {
  readonly name: string;
  readonly ae: string;
  readonly address: string;
  readonly state: 'idle' | 'sending' | 'backing-off' | 'stopped';
  readonly inFlight: string | null;
  readonly associationOpen: boolean;
  readonly consecutiveFailures: number;
  readonly retryAt: string | null;
  readonly lastSuccessAt: string | null;
  readonly lastError: string | null;
  /** When lastError's run of failures began: the destination has failed since then. */
  readonly failingSince: string | null;
  readonly sentSinceStart: number;
  /** Data set bytes of the instances delivered since this worker started. */
  readonly bytesSentSinceStart: number;
}

/** A failure that is the destination's condition, not the instance's: back off. */
class TransientError extends Error {
  override name = 'TransientError';
}

interface OpenAssociation {
  readonly association: EstablishedAssociation;
  readonly requestor: DimseRequestor;
  readonly routes: Routes;
  /** The accepted Storage Commitment context, when the node is asked to commit. */
  readonly commitContextId?: number;
  sent: number;
}

const BATCH = 64;

/** How long a delivered job may wait to be marked, with others, in one commit. */
const MARK_DELAY_MS = 1000;

/** More instances than this failing in transfer one after another: the destination's fault. */
const SUSPECTS_IN_A_ROW = 2;

export class DestinationWorker {
  private state: WorkerStatus['state'] = 'idle';
  private running = false;
  private open: OpenAssociation | null = null;
  private inFlight: string | null = null;
  private failures = 0;
  private retryAt: number | null = null;
  private lastSuccessAt: string | null = null;
  private lastError: string | null = null;
  private failingSince: string | null = null;
  private sent = 0;
  private bytesSent = 0;
  /** Instances whose transfer failed since the last one delivered. */
  private suspectsInARow = 0;
  /** Jobs delivered but not yet marked in the index (see markDelivered). */
  private readonly unmarked = new Map<number, string>(); // pk -> when delivered
  private markTimer?: NodeJS.Timeout;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private loop: Promise<void> | null = null;
  private limiter: { rate: number; bucket: RateLimiter } | null = null;

  /** The node's address or AE title changed: the open association is to the old peer. */
  private stale = false;

  constructor(
    private node: NodeConfig,
    private deps: WorkerDeps,
  ) {}

  /**
   * A configuration change, applied live: new settings take effect at once; when the peer
   * itself changed, the association to the old one ends after the instance in flight and
   * a backoff towards the old address is cut short.
   */
  reconfigure(node: NodeConfig, deps: WorkerDeps): void {
    const before = this.node;
    this.node = node;
    this.deps = deps;
    const peerChanged =
      before.ae !== node.ae ||
      before.host !== node.host ||
      before.port !== node.port ||
      before.requestCommit !== node.requestCommit;
    if (peerChanged) {
      this.stale = true;
      this.failures = 0;
      this.retryNow();
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New jobs were committed for this destination. Does not cut a backoff short. */
  wake(): void {
    this.woken = true;
    if (this.state !== 'backing-off') this.wakeUp?.();
  }

  /** Ends the backoff now (an operator asked to retry). */
  retryNow(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    // An instance in flight gets a moment to finish; a hung destination must not hold up
    // shutdown, so its association is then aborted (the job stays queued).
    const cutoff = setTimeout(() => this.open?.association.abort(), 2000);
    await this.loop;
    clearTimeout(cutoff);
    this.state = 'stopped';
  }

  status(): WorkerStatus {
    return {
      name: this.node.name,
      ae: this.node.ae,
      address: `${this.node.host}:${this.node.port}`,
      state: this.state,
      inFlight: this.inFlight,
      associationOpen: this.open !== null,
      consecutiveFailures: this.failures,
      retryAt: this.retryAt ? new Date(this.retryAt).toISOString() : null,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      failingSince: this.lastError === null ? null : this.failingSince,
      sentSinceStart: this.sent,
      bytesSentSinceStart: this.bytesSent,
    };
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      if (this.stale) {
        this.stale = false;
        await this.closeAssociation();
      }
      let jobs: ForwardJob[];
      try {
        // Delivered but not yet marked: not to be sent again.
        jobs = (await this.deps.index.queue.queuedJobs(this.node.name, BATCH + this.unmarked.size))
          .filter((j) => !this.unmarked.has(j.pk))
          .slice(0, BATCH);
      } catch (err) {
        log.error('forward queue unreadable', {
          dest: this.node.name,
          reason: (err as Error).message,
        });
        await this.sleep(5000);
        continue;
      }
      if (jobs.length === 0) {
        this.state = 'idle';
        if (this.woken) continue;
        const idleMs = this.open ? this.deps.settings.idleSeconds * 1000 : 3_600_000;
        const setAside = await this.deps.index.queue
          .nextSetAsideAt(this.node.name)
          .catch(() => null);
        const untilSetAside = setAside ? Math.max(0, Date.parse(setAside) - Date.now()) : Infinity;
        const woke = await this.sleep(Math.min(idleMs, untilSetAside + 10));
        if (!woke && untilSetAside >= idleMs) await this.closeAssociation(); // idle long enough
        continue;
      }
      this.state = 'sending';
      try {
        await this.sendBatch(jobs);
        this.failures = 0;
        this.retryAt = null;
      } catch (err) {
        await this.closeAssociation(true);
        if (!this.running) break;
        if (this.lastError === null) this.failingSince = new Date().toISOString();
        this.failures++;
        this.lastError = (err as Error).message;
        const delay = backoffDelay(
          {
            initialMs: this.deps.settings.retryInitialSeconds * 1000,
            maxMs: this.deps.settings.retryMaxSeconds * 1000,
          },
          this.failures,
        );
        this.retryAt = Date.now() + delay;
        this.state = 'backing-off';
        log.warn('forwarding paused', {
          dest: this.node.name,
          reason: this.lastError,
          failures: this.failures,
          retryInSeconds: Math.round(delay / 1000),
        });
        await this.sleep(delay);
        this.retryAt = null;
      }
    }
    await this.flushMarks().catch((err: unknown) =>
      log.error('delivered jobs not marked', {
        dest: this.node.name,
        reason: (err as Error).message,
      }),
    );
    await this.closeAssociation();
  }

  private async sendBatch(jobs: readonly ForwardJob[]): Promise<void> {
    const delivered: number[] = [];
    try {
      await this.sendJobs(jobs, delivered);
    } finally {
      await this.markDelivered(delivered);
      if (delivered.length > 0 && this.node.requestCommit)
        await this.requestCommit(jobs, delivered);
    }
  }

  /**
   * Delivered jobs are marked in the index together: when BATCH of them wait, on stop, or
   * MARK_DELAY_MS after the first — one commit (one fsync on an
   * SD card) for many deliveries even when forwarding keeps pace one instance at a time.
   * A mark lost to a power cut means one more (harmless) send: delivery is at least once.
   */
  private async markDelivered(pks: readonly number[]): Promise<void> {
    const now = new Date().toISOString();
    for (const pk of pks) this.unmarked.set(pk, now);
    if (this.unmarked.size >= BATCH) await this.flushMarks();
    else if (this.unmarked.size > 0 && !this.markTimer) {
      this.markTimer = setTimeout(() => {
        this.markTimer = undefined;
        void this.flushMarks().catch((err: unknown) =>
          log.error('delivered jobs not marked', {
            dest: this.node.name,
            reason: (err as Error).message,
          }),
        );
      }, MARK_DELAY_MS);
      this.markTimer.unref();
    }
  }

  private async flushMarks(): Promise<void> {
    clearTimeout(this.markTimer);
    this.markTimer = undefined;
    if (this.unmarked.size === 0) return;
    const pks = [...this.unmarked.keys()];
    // The time of the latest delivery among them, not of the mark: an error after these
    // deliveries must not look older than them.
    const latest = [...this.unmarked.values()].sort().at(-1)!;
    await this.deps.index.queue.finishJobs(pks, { state: 'done', status: 0 }, latest);
    for (const pk of pks) this.unmarked.delete(pk);
    this.deps.onDelivered?.();
  }

  private async sendJobs(jobs: readonly ForwardJob[], delivered: number[]): Promise<void> {
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
      try {
        ({ status, comment } = await sendInstance(open.requestor, this.deps.cache, route, job, {
          peer: this.node.name,
          ...(this.node.maxBytesPerSecond ? { through: (d) => this.limited(d) } : {}),
        }));
      } catch (err) {
        if (err instanceof CacheFileError) {
          // A newer copy replaced this one since the batch was read: the job stays queued
          // and goes with the new file in the next batch.
          const current = await this.deps.index.instances.getInstance(job.sopInstanceUid);
          if (current && current.path !== job.path) continue;
          await this.fail(job, null, err.message);
          continue;
        }
        if (err instanceof DatasetParseError) {
          // The instance itself cannot be transcoded: the association is mid-message, so
          // it goes; the job fails for good; the rest of the batch goes on.
          await this.closeAssociation(true);
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
      if (verdict === 'permanent') {
        await this.fail(
          job,
          status,
          `${this.node.name} refused it: status ${formatStatus(status)}${comment ? ` (${comment})` : ''}`,
        );
        continue;
      }
      // Success marks wait for the batch; a warning status is recorded as it came.
      if (status === 0) delivered.push(job.pk);
      else await this.deps.index.queue.finishJobs([job.pk], { state: 'done', status });
      this.sent++;
      this.bytesSent += job.size - job.datasetOffset;
      this.lastSuccessAt = new Date().toISOString();
      this.lastError = null; // the destination works: an earlier error is history
      log.info('forwarded', {
        dest: this.node.name,
        sop: job.sopInstanceUid,
        bytes: job.size - job.datasetOffset,
        ms: Date.now() - started,
      });
      if (++open.sent >= this.deps.settings.instancesPerAssociation) await this.closeAssociation();
      if (!this.open && job !== jobs[jobs.length - 1]) await this.ensureAssociation(jobs);
    }
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
    await this.closeAssociation(true);
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
    const tries = job.suspectCount + 1;
    if (tries >= this.deps.settings.instanceAttempts) {
      await this.fail(
        job,
        null,
        `${detail}; ${tries} tries, each time while ${this.node.name} took new associations`,
      );
      return;
    }
    const hold = backoffDelay(
      {
        initialMs: this.deps.settings.retryInitialSeconds * 1000,
        maxMs: this.deps.settings.retryMaxSeconds * 1000,
      },
      tries,
    );
    await this.deps.index.queue.noteAttempt(job.pk, detail);
    await this.deps.index.queue.setAside(job.pk, new Date(Date.now() + hold).toISOString());
    log.warn('instance set aside, the rest of the queue goes on', {
      dest: this.node.name,
      sop: job.sopInstanceUid,
      tries,
      of: this.deps.settings.instanceAttempts,
      retryInSeconds: Math.round(hold / 1000),
      reason,
    });
  }

  /** Asks the destination to commit to what it just accepted (PS3.4 J.3.2). */
  private async requestCommit(
    jobs: readonly ForwardJob[],
    delivered: readonly number[],
  ): Promise<void> {
    const open = this.open;
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

  private limited(data: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    const rate = this.node.maxBytesPerSecond!;
    if (this.limiter?.rate !== rate) this.limiter = { rate, bucket: new RateLimiter(rate) };
    return this.limiter.bucket.limit(data);
  }

  private async fail(job: ForwardJob, status: number | null, error: string): Promise<void> {
    await this.deps.index.queue.finishJobs([job.pk], { state: 'failed', status, error });
    log.warn('forward failed for good', {
      dest: this.node.name,
      sop: job.sopInstanceUid,
      reason: error,
    });
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
    await this.closeAssociation();
    const proposal = proposeContexts(keys);
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

  private async closeAssociation(abort = false): Promise<void> {
    const open = this.open;
    this.open = null;
    if (!open) return;
    if (abort || open.association.state !== 'Sta6') {
      open.association.abort();
      return;
    }
    await open.association.release().catch(() => open.association.abort());
  }

  /** Sleeps up to ms; resolves true if woken early. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve(false);
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve(true);
      };
    });
  }
}
