// One worker per forward destination (PRODUCT.md: one dead destination never blocks
// another): the queue side, whatever the destination speaks. It takes queued jobs oldest
// study first, a batch at a time, marks the delivered ones in the index together, and on
// transient trouble backs off for the whole destination with capped exponential delay,
// forever. While it backs off, the destination is probed every few seconds (C-ECHO, a
// QIDO-RS query): when it answers again the backoff ends, so a PACS back after a long
// outage is sent to within seconds, not when a backoff grown to minutes runs out. How a
// batch reaches the destination is its subclass's: DimseWorker (C-STORE over
// associations) or StowWorker (STOW-RS over HTTP).
import type { ForwardingConfig, NodeConfig } from '../config/config';
import { nodeAddress } from '../config/config';
import { formatStatus } from '../dicom/dimse/status';
import { log } from '../log';
import type { Cache } from '../../storage/cache';
import type { ForwardJob, Index } from '../../storage/index';
import { backoffDelay } from './backoff';
import { RateLimiter } from './throttle';

export interface WorkerDeps {
  readonly index: Pick<Index, 'queue' | 'instances' | 'commitments'>;
  readonly cache: Cache;
  readonly settings: ForwardingConfig;
  readonly onDelivered?: () => void;
}

export interface WorkerStatus {
  readonly name: string;
  /** Where it is: AE@host:port, or the DICOMweb service's URL. */
  readonly peer: string;
  readonly state: 'idle' | 'sending' | 'backing-off' | 'stopped';
  readonly inFlight: string | null;
  /** An association (or an HTTP connection) is open to it. */
  readonly connected: boolean;
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
export class TransientError extends Error {
  override name = 'TransientError';
}

export const BATCH = 64;

/** How long a delivered job may wait to be marked, with others, in one commit. */
const MARK_DELAY_MS = 1000;

export abstract class DestinationWorker<
  N extends NodeConfig = NodeConfig,
  D extends WorkerDeps = WorkerDeps,
> {
  private state: WorkerStatus['state'] = 'idle';
  protected running = false;
  protected inFlight: string | null = null;
  private failures = 0;
  private retryAt: number | null = null;
  private lastSuccessAt: string | null = null;
  private lastError: string | null = null;
  private failingSince: string | null = null;
  private sent = 0;
  private bytesSent = 0;
  /** Jobs delivered but not yet marked in the index (see markDelivered). */
  private readonly unmarked = new Map<number, string>(); // pk -> when delivered
  private markTimer?: NodeJS.Timeout;
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
  protected stale = false;

  constructor(
    protected node: N,
    protected deps: D,
  ) {}

  /** Sends a batch; each job's outcome is recorded (delivered, failed) as it comes. */
  protected abstract sendJobs(jobs: readonly ForwardJob[], delivered: number[]): Promise<void>;
  /** Whether the connection to the destination is open (the idle timer then runs). */
  protected abstract get connected(): boolean;
  /** Ends the connection: released, or at once (abort). */
  protected abstract closeConnection(abort?: boolean): Promise<void>;
  /** Stopping and the destination hangs: cut the transfer in flight. */
  protected abstract abortNow(): void;
  /** Whether a new configuration of the node is another peer (the connection is stale). */
  protected abstract peerChanged(before: N, after: N): boolean;
  /** Whether the destination answers a cheap check now (C-ECHO, a QIDO-RS query). */
  protected abstract probe(): Promise<boolean>;
  /** After a batch with deliveries (storage commitment). */
  protected async afterDelivery(
    _jobs: readonly ForwardJob[],
    _delivered: readonly number[],
  ): Promise<void> {}

  /**
   * A configuration change, applied live: new settings take effect at once; when the peer
   * itself changed, the connection to the old one ends after the instance in flight and
   * a backoff towards the old address is cut short.
   */
  reconfigure(node: N, deps: D): void {
    const before = this.node;
    this.node = node;
    this.deps = deps;
    if (this.peerChanged(before, node)) {
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
    const cutoff = setTimeout(() => this.abortNow(), 2000);
    await this.loop;
    clearTimeout(cutoff);
    this.state = 'stopped';
  }

  status(): WorkerStatus {
    return {
      name: this.node.name,
      peer: nodeAddress(this.node),
      state: this.state,
      inFlight: this.inFlight,
      connected: this.connected,
      consecutiveFailures: this.failures,
      retryAt: this.retryAt ? new Date(this.retryAt).toISOString() : null,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      failingSince: this.lastError === null ? null : this.failingSince,
      sentSinceStart: this.sent,
      bytesSentSinceStart: this.bytesSent,
    };
  }

  /**
   * An instance the destination took: a success waits to be marked with the batch, a
   * warning is recorded as it came. The destination works: an earlier error is history.
   */
  protected async accepted(
    job: ForwardJob,
    status: number,
    delivered: number[],
    started: number,
  ): Promise<void> {
    if (status === 0) delivered.push(job.pk);
    else await this.deps.index.queue.finishJobs([job.pk], { state: 'done', status });
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

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      if (this.stale) {
        this.stale = false;
        await this.closeConnection();
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
        const idleMs = this.connected ? this.deps.settings.idleSeconds * 1000 : 3_600_000;
        const setAside = await this.deps.index.queue
          .nextSetAsideAt(this.node.name)
          .catch(() => null);
        const untilSetAside = setAside ? Math.max(0, Date.parse(setAside) - Date.now()) : Infinity;
        const woke = await this.sleep(Math.min(idleMs, untilSetAside + 10));
        if (!woke && untilSetAside >= idleMs) await this.closeConnection(); // idle long enough
        continue;
      }
      this.state = 'sending';
      try {
        await this.sendBatch(jobs);
        this.failures = 0;
        this.probeMayWake = true;
        this.retryAt = null;
      } catch (err) {
        await this.closeConnection(true);
        if (!this.running) break;
        await this.backOff((err as Error).message);
      }
    }
    await this.flushMarks().catch((err: unknown) =>
      log.error('delivered jobs not marked', {
        dest: this.node.name,
        reason: (err as Error).message,
      }),
    );
    await this.closeConnection();
  }

  /** The destination's trouble: it is left alone for a capped, growing delay, and probed. */
  private async backOff(reason: string): Promise<void> {
    if (this.lastError === null) this.failingSince = new Date().toISOString();
    this.failures++;
    this.lastError = reason;
    const delay = backoffDelay(
      {
        initialMs: this.deps.settings.retryInitialSeconds * 1000,
        maxMs: this.deps.settings.retryMaxSeconds * 1000,
      },
      this.failures,
    );
    const started = Date.now();
    this.retryAt = started + delay;
    this.state = 'backing-off';
    log.warn('forwarding paused', {
      dest: this.node.name,
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
    this.probing ??= this.probe()
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

  private async sendBatch(jobs: readonly ForwardJob[]): Promise<void> {
    const delivered: number[] = [];
    try {
      await this.sendJobs(jobs, delivered);
    } finally {
      await this.markDelivered(delivered);
      if (delivered.length > 0) await this.afterDelivery(jobs, delivered);
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

  protected limited(data: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    const rate = this.node.maxBytesPerSecond!;
    if (this.limiter?.rate !== rate) this.limiter = { rate, bucket: new RateLimiter(rate) };
    return this.limiter.bucket.limit(data);
  }

  /**
   * A job whose cache file cannot be read. If a newer copy replaced it since the batch was
   * read, the job stays queued and goes with the new file in the next batch; else it fails.
   */
  protected async fileGone(job: ForwardJob, reason: string): Promise<void> {
    const current = await this.deps.index.instances.getInstance(job.sopInstanceUid);
    if (current && current.path !== job.path) return;
    await this.fail(job, null, reason);
  }

  /**
   * An instance whose transfer failed while the destination otherwise works (`working`
   * says how that was seen): set aside for a while, the rest of the queue goes on; failed
   * with the reason once its tries are spent (forwarding.instanceAttempts).
   */
  protected async setAsideOrFail(job: ForwardJob, detail: string, working: string): Promise<void> {
    const tries = job.suspectCount + 1;
    if (tries >= this.deps.settings.instanceAttempts) {
      await this.fail(job, null, `${detail}; ${tries} tries, each time while ${working}`);
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
      reason: detail,
    });
  }

  protected async fail(job: ForwardJob, status: number | null, error: string): Promise<void> {
    await this.deps.index.queue.finishJobs([job.pk], { state: 'failed', status, error });
    log.warn('forward failed for good', {
      dest: this.node.name,
      sop: job.sopInstanceUid,
      reason: error,
    });
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
