// One runner per forward destination (PRODUCT.md: one dead destination never blocks
// another), whatever the destination speaks: it takes queued jobs oldest study first, a
// batch at a time, hands them to its Transport (DIMSE or STOW-RS) request by request, and
// acts on what the transport says of each instance: delivered (marked with others in one
// commit), refused (failed with the reason; refused compressed, sent again as it is),
// unreadable, or out of resources. On the destination's trouble it backs off for the whole
// destination with capped exponential delay, forever, probing it every few seconds
// meanwhile (C-ECHO, a QIDO-RS query): a PACS back after a long outage is sent to within
// seconds, not when a backoff grown to minutes runs out. An instance whose transfer fails
// while the destination otherwise works is set aside, then failed: one bad instance never
// stalls the queue behind it.
import { promises as fs } from 'node:fs';
import { compressionFor } from '../codec/compress-instance';
import type { NodeConfig } from '../config/config';
import { nodeAddress } from '../config/config';
import { formatStatus } from '../dicom/dimse/status';
import { log } from '../log';
import type { ForwardJob } from '../../storage/index';
import { backoffDelay } from './backoff';
import { CompressionChoice } from './compression-choice';
import { classifyFailure, type FailureClass, type FailureKind } from './failure-kind';
import type { CertificateProblem } from '../tls/certificate-problem';
import { BATCH, DeliveryMarks } from './delivery-marks';
import { RateLimiter } from './throttle';
import {
  TransientError,
  type ForwardDeps,
  type InstanceVerdict,
  type Outcome,
  type SendOptions,
  type Transport,
} from './transport';

export interface DestinationStatus {
  readonly name: string;
  /** Where it is: AE@host:port, or the DICOMweb service's URL. */
  readonly peer: string;
  readonly state: 'idle' | 'sending' | 'backing-off' | 'stopped';
  /** The instance being sent, or "N instances" when several are. */
  readonly inFlight: string | null;
  /** How many instances are being sent now (several associations, operations windows). */
  readonly inFlightCount: number;
  /** An association (or an HTTP connection) is open to it. */
  readonly connected: boolean;
  /** How many: associations open to a DIMSE destination. */
  readonly connections: number;
  readonly consecutiveFailures: number;
  readonly retryAt: string | null;
  readonly lastSuccessAt: string | null;
  readonly lastError: string | null;
  /** When lastError's run of failures began: the destination has failed since then. */
  readonly failingSince: string | null;
  /** While failing, the kind of lastError: a certificate, the network, a rejection... */
  readonly failureKind: FailureKind | null;
  /** For a certificate failure, what is wrong with which certificate. */
  readonly certificateProblem: CertificateProblem | null;
  readonly sentSinceStart: number;
  /** Data set bytes of the instances delivered since this runner started. */
  readonly bytesSentSinceStart: number;
}

/** More instances than this failing in transfer one after another: the destination's fault. */
const SUSPECTS_IN_A_ROW = 2;

/**
 * Transfers that break within this of each other broke for one cause (the destination
 * restarted, the link dropped): none of them is a suspect until sent again alone.
 */
const TOGETHER_MS = 200;

export class QueueRunner<N extends NodeConfig> {
  private state: DestinationStatus['state'] = 'idle';
  private running = false;
  /** The requests being sent, each with its instances (for the status). */
  private readonly sending = new Map<object, readonly ForwardJob[]>();
  /** The batch under way met the destination's trouble: no more of it is sent or judged. */
  private batchFailed = false;
  /** Broken transfers are judged one at a time, in the order they broke. */
  private triage: Promise<unknown> = Promise.resolve();
  /** When recent transfers broke (the last ten seconds'). */
  private breaks: number[] = [];
  private failures = 0;
  private retryAt: number | null = null;
  private lastSuccessAt: string | null = null;
  private lastError: string | null = null;
  private failingSince: string | null = null;
  private lastFailure: FailureClass | null = null;
  private sent = 0;
  private bytesSent = 0;
  private readonly marks = new DeliveryMarks(() => ({
    dest: this.node.name,
    archive: this.deps.archive,
    onChanged: (pks) => this.changedWhileSent(pks),
    ...(this.deps.onDelivered ? { onDelivered: this.deps.onDelivered } : {}),
  }));
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private loop: Promise<void> | null = null;
  private limiter: { rate: number; bucket: RateLimiter } | null = null;
  /** Why the backoff under way is to end now (an operator asked, an echo answered), if it is. */
  private retryAsked: string | null = null;
  /**
   * Whether a probe that answers may end a backoff. The wake spends it; it comes back
   * when a probe finds the destination silent (its coming back is then news) or a batch
   * goes through. A destination that answers C-ECHO while it refuses C-STOREs is so woken
   * once, then backs off with the grown delay, instead of being tried at every probe.
   */
  private probeMayWake = true;
  /** The probe in flight, one at most: resolves with whether the destination answered. */
  private probing: Promise<boolean> | null = null;
  /** The node's address or identity changed: the open connection is to the old peer. */
  private stale = false;
  /** Instances whose transfer failed since the destination last answered one. */
  private suspectsInARow = 0;
  /** Which instances go compressed, as the destination has answered so far. */
  private readonly compression = new CompressionChoice();

  constructor(
    private node: N,
    private deps: ForwardDeps,
    private readonly transport: Transport<N>,
  ) {}

  /**
   * A configuration change, applied live: new settings take effect at once; when the peer
   * itself changed, the connection to the old one ends after the instance in flight and
   * a backoff towards the old address is cut short.
   */
  reconfigure(node: N, deps: ForwardDeps): void {
    this.compression.reconfigured(this.node, node);
    this.node = node;
    this.deps = deps;
    if (this.transport.reconfigure(node, deps)) {
      this.stale = true;
      this.failures = 0;
      this.probeMayWake = true;
      this.retryNow('its address changed');
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

  /**
   * Ends the backoff now, for the reason given (an operator asked to retry, an echo
   * answered); else looks at the queue again. Returns whether it was backing off.
   */
  retryNow(why = 'an operator asked to retry'): boolean {
    const backingOff = this.state === 'backing-off' && this.retryAt !== null;
    this.woken = true;
    if (backingOff) this.retryAsked ??= why;
    this.wakeUp?.();
    return backingOff;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    // An instance in flight gets a moment to finish; a hung destination must not hold up
    // shutdown, so its transfer is then cut (the job stays queued).
    const cutoff = setTimeout(() => this.transport.abortNow(), 2000);
    await this.loop;
    clearTimeout(cutoff);
    this.state = 'stopped';
  }

  status(): DestinationStatus {
    const inFlight = [...this.sending.values()].flat();
    return {
      name: this.node.name,
      peer: nodeAddress(this.node),
      state: this.state,
      inFlight:
        inFlight.length === 0
          ? null
          : inFlight.length === 1
            ? inFlight[0]!.sopInstanceUid
            : `${inFlight.length} instances`,
      inFlightCount: inFlight.length,
      connected: this.transport.connected,
      connections: this.transport.connections,
      consecutiveFailures: this.failures,
      retryAt: this.retryAt ? new Date(this.retryAt).toISOString() : null,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      failingSince: this.lastError === null ? null : this.failingSince,
      failureKind: this.lastError === null ? null : (this.lastFailure?.kind ?? null),
      certificateProblem: this.lastError === null ? null : (this.lastFailure?.certificate ?? null),
      sentSinceStart: this.sent,
      bytesSentSinceStart: this.bytesSent,
    };
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      if (this.stale) {
        this.stale = false;
        await this.transport.close();
      }
      const jobs = await this.nextJobs();
      if (jobs === null) {
        await this.sleep(5000);
        continue;
      }
      if (jobs.length === 0) {
        this.state = 'idle';
        if (!this.woken) await this.idle();
        continue;
      }
      this.state = 'sending';
      try {
        await this.sendBatch(jobs);
        this.failures = 0;
        this.probeMayWake = true;
        this.retryAt = null;
      } catch (err) {
        await this.transport.close(true);
        if (!this.running) break;
        await this.backOff(err as Error);
      }
    }
    await this.marks.flush().catch((err: unknown) => this.marks.failed(err));
    await this.transport.close();
  }

  /** The next batch, less what was delivered and not yet marked; null if unreadable. */
  private async nextJobs(): Promise<ForwardJob[] | null> {
    try {
      return (await this.deps.archive.queue.queuedJobs(this.node.name, BATCH + this.marks.size))
        .filter((j) => !this.marks.has(j.pk))
        .slice(0, BATCH);
    } catch (err) {
      log.error('forward queue unreadable', {
        dest: this.node.name,
        reason: (err as Error).message,
      });
      return null;
    }
  }

  /** Nothing queued: waits for a wake, an instance set aside coming due, or idleness. */
  private async idle(): Promise<void> {
    const idleMs = this.transport.connected ? this.deps.settings.idleSeconds * 1000 : 3_600_000;
    const setAside = await this.deps.archive.queue.nextSetAsideAt(this.node.name).catch(() => null);
    const untilSetAside = setAside ? Math.max(0, Date.parse(setAside) - Date.now()) : Infinity;
    const woke = await this.sleep(Math.min(idleMs, untilSetAside + 10));
    if (!woke && untilSetAside >= idleMs) await this.transport.close(); // idle long enough
  }

  /** The destination's trouble: it is left alone for a capped, growing delay, and probed. */
  private async backOff(err: Error): Promise<void> {
    const reason = err.message;
    if (this.lastError === null) this.failingSince = new Date().toISOString();
    this.failures++;
    this.lastError = reason;
    this.lastFailure = classifyFailure(err);
    const delay = this.delay(this.failures);
    const started = Date.now();
    this.retryAt = started + delay;
    this.state = 'backing-off';
    log.warn('forwarding paused', {
      dest: this.node.name,
      kind: this.lastFailure.kind,
      reason,
      failures: this.failures,
      retryInSeconds: Math.round(delay / 1000),
    });
    const why = await this.waitOut(this.retryAt);
    this.retryAt = null;
    if (why)
      log.info('forwarding resumes before its backoff ran out', {
        dest: this.node.name,
        why,
        afterSeconds: Math.round((Date.now() - started) / 100) / 10,
      });
  }

  private delay(failures: number): number {
    return backoffDelay(
      {
        initialMs: this.deps.settings.retryInitialSeconds * 1000,
        maxMs: this.deps.settings.retryMaxSeconds * 1000,
      },
      failures,
    );
  }

  /**
   * Waits until `until`, probing the destination every probeSeconds meanwhile. Returns
   * why it ended early (the destination answers again, or a retry was asked), or null.
   */
  private async waitOut(until: number): Promise<string | null> {
    this.retryAsked = null;
    const every = this.deps.settings.probeSeconds * 1000;
    for (;;) {
      const left = until - Date.now();
      if (!this.running || left <= 0) return null;
      if (this.retryAsked !== null) return this.retryAsked;
      // Woken: stopping, or asked to retry; the loop's head tells which.
      if (await this.sleep(Math.min(every, left))) continue;
      if (left > every && (await this.probeWakes(until))) return 'the probe answered';
    }
  }

  /** Probes once (or waits on the probe in flight): whether its answer ends the backoff. */
  private async probeWakes(until: number): Promise<boolean> {
    this.probing ??= this.transport
      .probe()
      .catch(() => false)
      .finally(() => {
        this.probing = null;
      });
    // The backoff may run out, or be ended, while the probe waits on a silent peer.
    const answered = await Promise.race([
      this.probing,
      this.sleep(Math.max(0, until - Date.now())).then(() => null),
    ]);
    if (answered === null) return false;
    this.wakeUp?.(); // the probe came first: the wait beside it ends
    if (!answered) {
      this.probeMayWake = true;
      return false;
    }
    if (!this.probeMayWake) return false;
    this.probeMayWake = false;
    return true;
  }

  /**
   * Sends a batch, up to the transport's `parallel` requests at once (the queue's order is
   * the order they start in); each job's outcome is recorded as it comes. The first of
   * the destination's troubles ends the batch: nothing more starts, what is in flight
   * ends, then the trouble is thrown (one backoff, however many requests were going).
   */
  private async sendBatch(jobs: readonly ForwardJob[]): Promise<void> {
    const delivered: ForwardJob[] = [];
    this.batchFailed = false;
    try {
      await this.transport.prepare(jobs);
      const requests = this.transport.requests(jobs);
      let next = 0;
      let trouble: { readonly err: unknown } | undefined;
      const lane = async (): Promise<void> => {
        while (!trouble && next < requests.length && this.running && !this.stale) {
          const request = requests[next++]!;
          try {
            await this.sendRequest(request, delivered);
          } catch (err) {
            trouble ??= { err };
            this.batchFailed = true;
          }
        }
      };
      const lanes = Math.max(1, Math.min(this.transport.parallel, requests.length));
      await Promise.all(Array.from({ length: lanes }, lane));
      if (trouble) throw trouble.err;
    } finally {
      await this.marks.add(delivered);
      if (delivered.length > 0) await this.transport.delivered(delivered);
    }
  }

  /** One request: sent, then each instance dealt with as the destination answered. */
  private async sendRequest(
    request: readonly ForwardJob[],
    delivered: ForwardJob[],
    alone = false,
  ): Promise<void> {
    const jobs = await this.present(request);
    if (jobs.length === 0) return;
    const compressed = new Set<string>();
    const started = Date.now();
    const token = {};
    this.sending.set(token, jobs);
    log.debug('forwarding', {
      dest: this.node.name,
      instances: jobs.length,
      sop: jobs[0]!.sopInstanceUid,
    });
    let outcome: Outcome;
    try {
      outcome = await this.transport.send(jobs, { ...this.sendOptions(compressed), alone });
    } finally {
      this.sending.delete(token);
    }
    if (outcome.kind === 'codec' && compressed.size > 0) {
      // The encoder's trouble, not the destination's: these go as they are, now.
      log.warn('compression failed: sending as they are', {
        dest: this.node.name,
        reason: outcome.reason,
      });
      this.compression.codecFailed(compressed);
      return this.sendRequest(jobs, delivered, alone);
    }
    if (outcome.kind === 'codec')
      return this.broken(jobs, outcome.reason, undefined, delivered, alone);
    if (outcome.kind === 'broken')
      return this.broken(jobs, outcome.reason, outcome.cause, delivered, alone, outcome.shared);
    this.suspectsInARow = 0; // the destination answered
    if (outcome.kind === 'answered')
      return this.judge(jobs, outcome.verdicts, compressed, delivered, started);
    if (jobs.length === 1) {
      const refused: InstanceVerdict = { kind: 'failed', status: null, reason: outcome.reason };
      return this.judge(jobs, new Map([[jobs[0]!.pk, refused]]), compressed, delivered, started);
    }
    log.warn('request refused as a whole: sending its instances one at a time', {
      dest: this.node.name,
      instances: jobs.length,
      reason: outcome.reason,
    });
    return this.oneAtATime(jobs, delivered);
  }

  /** How the transport is to send: compressed where the node asks and it can, capped. */
  private sendOptions(compressed: Set<string>): SendOptions {
    const rate = this.node.maxBytesPerSecond;
    return {
      plan: async (job) => {
        if (!this.compression.wanted(this.node, job.sopInstanceUid)) return undefined;
        const plan = await compressionFor(this.deps.cache, job, this.node.name);
        if (plan) compressed.add(job.sopInstanceUid);
        return plan;
      },
      coercion: (job) => this.deps.archive.coercionFor(job.sopInstanceUid),
      ...(rate ? { through: (data: AsyncIterable<Buffer>) => this.limited(rate, data) } : {}),
    };
  }

  private limited(rate: number, data: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    if (this.limiter?.rate !== rate) this.limiter = { rate, bucket: new RateLimiter(rate) };
    return this.limiter.bucket.limit(data);
  }

  /** Each instance in a request of its own, nothing else beside it on its connection. */
  private async oneAtATime(jobs: readonly ForwardJob[], delivered: ForwardJob[]): Promise<void> {
    for (const job of jobs) {
      if (!this.running || this.stale || this.batchFailed) return;
      await this.sendRequest([job], delivered, true);
    }
  }

  /** The jobs whose cache file is there (checked before a request, which has no undo). */
  private async present(jobs: readonly ForwardJob[]): Promise<ForwardJob[]> {
    const out: ForwardJob[] = [];
    for (const job of jobs) {
      try {
        await fs.access(this.deps.cache.absolute(job.path));
        out.push(job);
      } catch {
        await this.fileGone(job, `cache file missing: ${job.path}`);
      }
    }
    return out;
  }

  /**
   * Each instance of an answered request, as the destination said: refused compressed,
   * they go again as they are, now, together (the one "refused compressed, send as it is"
   * fallback, whatever the destination speaks); out of resources backs off.
   */
  private async judge(
    jobs: readonly ForwardJob[],
    verdicts: ReadonlyMap<number, InstanceVerdict>,
    compressed: ReadonlySet<string>,
    delivered: ForwardJob[],
    started: number,
  ): Promise<void> {
    let retry: string | undefined;
    const again: ForwardJob[] = [];
    for (const job of jobs) {
      const v = verdicts.get(job.pk);
      if (v === undefined) continue; // not sent: stopping
      if (v.kind === 'delivered') await this.accepted(job, v.status, delivered, started);
      else if (v.kind === 'failed' && compressed.has(job.sopInstanceUid)) {
        this.compression.refused(this.node.name, job.sopInstanceUid, v);
        again.push(job);
      } else if (v.kind === 'failed') await this.fail(job, v.status, v.reason);
      else if (v.kind === 'gone') await this.fileGone(job, v.reason);
      else {
        await this.deps.archive.queue.noteAttempt(job.pk, v.reason, v.status ?? null);
        retry = v.reason;
      }
    }
    for (const request of this.transport.requests(again)) {
      if (!this.running || this.stale) break;
      await this.sendRequest(request, delivered);
    }
    if (retry !== undefined) throw new TransientError(retry);
  }

  /**
   * An instance the destination took: a success waits to be marked with the batch, a
   * warning is recorded as it came. The destination works: an earlier error is history.
   */
  private async accepted(
    job: ForwardJob,
    status: number,
    delivered: ForwardJob[],
    started: number,
  ): Promise<void> {
    if (status === 0) delivered.push(job);
    else {
      const left = await this.deps.archive.queue.finishJobs([job], { state: 'done', status });
      this.changedWhileSent(left);
    }
    this.sent++;
    this.bytesSent += job.size - job.datasetOffset;
    this.lastSuccessAt = new Date().toISOString();
    this.lastError = null;
    const said = {
      dest: this.node.name,
      sop: job.sopInstanceUid,
      bytes: job.size - job.datasetOffset,
      ms: Date.now() - started,
    };
    // A warning (coerced attributes, say) is delivered, and said so.
    if (status === 0) log.info('forwarded', said);
    else log.warn('forwarded with a warning', { ...said, status: formatStatus(status) });
  }

  /**
   * The transfer of a request ended badly: aborted, reset, or no answer came. Whether an
   * instance or the destination is to blame, the destination tells (an answer on another
   * association since, a new association, a query). If it does not work, it is down: back
   * off, nothing is charged. If it does, a request of many, or one that broke together
   * with others (on the same association, or within TOGETHER_MS on others: one cause),
   * goes again one instance at a time, alone; a single instance that broke alone is a
   * suspect: set aside for a while (the rest of the queue flows), failed with the reason
   * once its tries are spent. Several suspects in a row is the destination's trouble:
   * back off. Breaks are judged one at a time, so a destination that dropped every
   * association at once is found down once, not once per association.
   */
  private async broken(
    jobs: readonly ForwardJob[],
    reason: string,
    cause: unknown,
    delivered: ForwardJob[],
    alone: boolean,
    shared = false,
  ): Promise<void> {
    // Stopping (the transfer was cut short on purpose): the jobs stay queued, uncharged.
    if (!this.running) return;
    const at = Date.now();
    this.breaks = [...this.breaks.filter((t) => t > at - 10_000), at];
    const verdict = this.triage
      .then(() => this.judgeBreak(jobs, { reason, cause }, at, alone, shared))
      .catch((err: unknown) => {
        // Before the next break is judged: it is the same trouble, not news.
        this.batchFailed = true;
        throw err;
      });
    this.triage = verdict.catch(() => undefined);
    if ((await verdict) === 'again') {
      log.warn('request failed in transfer: sending its instances again, each alone', {
        dest: this.node.name,
        instances: jobs.length,
        reason,
      });
      await this.oneAtATime(jobs, delivered);
    }
  }

  /** What a broken transfer means (see broken): judged, or to be sent again alone. */
  private async judgeBreak(
    jobs: readonly ForwardJob[],
    { reason, cause }: { readonly reason: string; readonly cause: unknown },
    at: number,
    alone: boolean,
    shared: boolean,
  ): Promise<'judged' | 'again'> {
    // The batch already met the destination's trouble: the job stays queued, uncharged.
    if (!this.running || this.batchFailed) return 'judged';
    const one = jobs.length === 1 ? jobs[0]! : undefined;
    const detail = one ? `${reason} (while sending ${one.sopInstanceUid})` : reason;
    const charge = async (): Promise<void> => {
      if (one) await this.deps.archive.queue.noteAttempt(one.pk, detail);
    };
    // No connection was made (refused, unreachable, a certificate or the association
    // refused): nothing of the instance reached the destination, which is in trouble
    // whatever it answers a moment later (a service starting up).
    if (classifyFailure(cause).kind !== 'other') {
      await charge();
      throw new TransientError(reason, { cause });
    }
    const suspect = one !== undefined && (alone || !(shared || (await this.brokeWithOthers(at))));
    if (suspect && ++this.suspectsInARow > SUSPECTS_IN_A_ROW) {
      await charge();
      throw new TransientError(
        `${this.suspectsInARow} instances in a row failed in transfer, the last: ${detail}`,
        { cause },
      );
    }
    const works = await this.transport.works(jobs, at).catch(async (err: unknown) => {
      await charge();
      throw err;
    });
    if (!works) {
      await charge();
      throw new TransientError(reason, { cause });
    }
    if (!suspect) return 'again';
    await this.setAsideOrFail(one!, detail, `${this.node.name} ${this.transport.worksWhen}`);
    return 'judged';
  }

  /** Whether another transfer broke within TOGETHER_MS of `at` (waits until that is known). */
  private async brokeWithOthers(at: number): Promise<boolean> {
    const wait = at + TOGETHER_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return this.breaks.filter((t) => Math.abs(t - at) <= TOGETHER_MS).length > 1;
  }

  /**
   * A job whose cache file cannot be read. If a newer copy replaced it since the batch was
   * read, the job stays queued and goes with the new file in the next batch; else it fails.
   */
  private async fileGone(job: ForwardJob, reason: string): Promise<void> {
    const current = await this.deps.archive.instance(job.sopInstanceUid);
    if (current && current.path !== job.path) return;
    await this.fail(job, null, reason);
  }

  /**
   * An instance whose transfer failed while the destination otherwise works (`working`
   * says how that was seen): set aside for a while, the rest of the queue goes on; failed
   * with the reason once its tries are spent (forwarding.instanceAttempts).
   */
  private async setAsideOrFail(job: ForwardJob, detail: string, working: string): Promise<void> {
    const tries = job.suspectCount + 1;
    if (tries >= this.deps.settings.instanceAttempts) {
      await this.fail(job, null, `${detail}; ${tries} tries, each time while ${working}`);
      return;
    }
    const hold = this.delay(tries);
    await this.deps.archive.queue.noteAttempt(job.pk, detail);
    await this.deps.archive.queue.setAside(job, new Date(Date.now() + hold).toISOString());
    log.warn('instance set aside, the rest of the queue goes on', {
      dest: this.node.name,
      sop: job.sopInstanceUid,
      tries,
      of: this.deps.settings.instanceAttempts,
      retryInSeconds: Math.round(hold / 1000),
      reason: detail,
    });
  }

  private async fail(job: ForwardJob, status: number | null, error: string): Promise<void> {
    const left = await this.deps.archive.queue.finishJobs([job], {
      state: 'failed',
      status,
      error,
    });
    if (left.length > 0) return this.changedWhileSent(left);
    log.warn('forward failed for good', {
      dest: this.node.name,
      sop: job.sopInstanceUid,
      reason: error,
    });
  }

  /**
   * Jobs not finished because a changed copy of their instance was stored while they were
   * sent: still queued, they go again with that copy (the runner may be idle by now).
   */
  private changedWhileSent(pks: readonly number[]): void {
    if (pks.length === 0) return;
    log.info('a changed copy arrived while the instance was sent: it goes too', {
      dest: this.node.name,
      jobs: pks.length,
    });
    this.wake();
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
