// The worklist of a running box: the copy replicated on an interval from the node marked
// worklistSource, and what it is worth now. Modalities are answered from the copy (the
// SCP, mwl-scp.ts), never through the WAN at query time: a query costs a modality the same
// milliseconds whether the RIS is near, far or gone, and the source is asked once an
// interval, not once per modality per patient. While the source fails the copy is served,
// flagged stale since the first failure, until it is older than worklist.maxAgeSeconds;
// then modalities get a failure status (C001) rather than an empty list they would show
// as "nothing scheduled" (docs/worklist.md says why).
import { worklistSource, nodeAddress, type Config } from '../config/config';
import { log } from '../log';
import { nodePeer } from '../services/open-association';
import type { WorklistMismatch, WorklistStore } from '../../storage/worklist';
import { ATTRIBUTE_TAGS } from './coerced-values';
import { replicate, type Replicated } from './replication';

/**
 * fresh: the last replication worked. stale: the source fails, the copy is served.
 * expired: the copy is older than maxAgeSeconds, not served. none: no copy yet.
 */
export type WorklistState = 'fresh' | 'stale' | 'expired' | 'none';

export interface WorklistStatus {
  /** The source node's name and address. */
  readonly source: string;
  readonly peer: string;
  readonly state: WorklistState;
  readonly items: number;
  /** When the copy was taken (its last complete replication), and its age now. */
  readonly lastSuccessAt: string | null;
  readonly ageSeconds: number | null;
  /** Since when the source fails, and its last error. */
  readonly failingSince: string | null;
  readonly lastError: string | null;
  readonly intervalSeconds: number;
  readonly maxAgeSeconds: number;
  /** Until when the copy is served (taken + maxAgeSeconds). */
  readonly servedUntil: string | null;
  /** The last replication stopped at worklist.maxItems. */
  readonly truncated: boolean;
  /** Instances received whose patient differs from their item. */
  readonly mismatches: number;
  readonly replicating: boolean;
}

/** One item as `dicom-edge worklist` lists it. */
export interface WorklistItemSummary {
  readonly date: string;
  readonly time: string;
  readonly station: string;
  readonly modality: string;
  readonly accessionNumber: string;
  readonly patientName: string;
  readonly patientId: string;
  readonly procedure: string;
  readonly lastSeenAt: string;
}

/** A mismatch as the control API shows it: which elements forwarded copies carry, not their bytes. */
export interface MismatchView extends Omit<WorklistMismatch, 'coercion'> {
  /** The attributes forwarded copies carry from the item; null when the rule only lists. */
  readonly coerced: readonly string[] | null;
}

export type RefreshResult =
  | { readonly ok: true; readonly replicated: Replicated }
  | { readonly ok: false; readonly reason: string };

/** Whether the copy may answer a modality now, and why not. */
export type Serving =
  | { readonly serve: true; readonly state: 'fresh' | 'stale' }
  | { readonly serve: false; readonly reason: string };

/** An age in the words of an Error Comment (at most 64 characters in all). */
function spoken(seconds: number): string {
  if (seconds >= 7200) return `${Math.round(seconds / 3600)} h`;
  if (seconds >= 120) return `${Math.round(seconds / 60)} min`;
  return `${seconds} s`;
}

export class Worklist {
  private timer?: NodeJS.Timeout;
  private running: Promise<RefreshResult> | null = null;
  private stopped = false;
  /** The copy was found expired at the last look (logged once per expiry). */
  private expired = false;
  /** What the schedule was made for: a change of it replicates at once. */
  private settings = '';

  constructor(
    readonly store: WorklistStore,
    private readonly config: () => Config,
  ) {}

  start(): void {
    this.settings = this.settingsKey(this.config());
    this.schedule(0);
  }

  /** A new configuration: a new source, query or interval replicates at once. */
  apply(next: Config): void {
    const key = this.settingsKey(next);
    if (key === this.settings) return;
    this.settings = key;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Replicates now (or waits for the replication under way); never rejects. */
  refresh(): Promise<RefreshResult> {
    this.running ??= this.replicateNow()
      .catch((err: Error): RefreshResult => {
        // The index failed under the replication: said here, tried again next interval.
        log.error('worklist replication failed', { reason: err.message });
        return { ok: false, reason: err.message };
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async status(now = new Date()): Promise<WorklistStatus | null> {
    const config = this.config();
    const source = worklistSource(config);
    if (!source) return null;
    const [state, items, mismatches] = await Promise.all([
      this.store.state(),
      this.store.count(),
      this.store.mismatchCount(),
    ]);
    const { maxAgeSeconds, intervalSeconds } = config.worklist;
    const taken = state.lastSuccessAt ? Date.parse(state.lastSuccessAt) : null;
    const ageSeconds =
      taken === null ? null : Math.max(0, Math.round((now.getTime() - taken) / 1000));
    return {
      source: source.name,
      peer: nodeAddress(source),
      state:
        ageSeconds === null
          ? 'none'
          : ageSeconds >= maxAgeSeconds
            ? 'expired'
            : state.failingSince
              ? 'stale'
              : 'fresh',
      items,
      lastSuccessAt: state.lastSuccessAt,
      ageSeconds,
      failingSince: state.failingSince,
      lastError: state.lastError,
      intervalSeconds,
      maxAgeSeconds,
      servedUntil: taken === null ? null : new Date(taken + maxAgeSeconds * 1000).toISOString(),
      truncated: state.truncated,
      mismatches,
      replicating: this.running !== null,
    };
  }

  /** Whether a modality is answered from the copy now. */
  async serving(now = new Date()): Promise<Serving> {
    const s = await this.status(now);
    if (!s) return { serve: false, reason: 'no worklist source is configured' };
    if (s.state === 'fresh' || s.state === 'stale') return { serve: true, state: s.state };
    if (s.state === 'none')
      return { serve: false, reason: `no worklist copy yet: ${s.source} not reached` };
    return {
      serve: false,
      reason: `worklist copy ${spoken(s.ageSeconds!)} old: ${s.source} unreachable`,
    };
  }

  /** The copy in schedule order, up to `limit` items. */
  async items(limit: number): Promise<WorklistItemSummary[]> {
    const page = await this.store.page(null, limit);
    return page.map((i) => ({
      date: i.values.spsStartDate,
      time: i.values.spsStartTime,
      station: i.values.scheduledStationAeTitle,
      modality: i.values.modality,
      accessionNumber: i.values.accessionNumber,
      patientName: i.values.patientName,
      patientId: i.values.patientId,
      procedure: i.values.requestedProcedureDescription || i.values.spsDescription,
      lastSeenAt: i.lastSeenAt,
    }));
  }

  /** The instances whose patient differed from their item, the most recent first. */
  async mismatchViews(limit: number): Promise<MismatchView[]> {
    return (await this.store.mismatches(limit)).map(({ coercion, ...m }) => ({
      ...m,
      coerced:
        coercion === null
          ? null
          : m.differences
              .map((d) => d.attribute)
              .filter((a) => coercion.some((e) => e.tag === ATTRIBUTE_TAGS[a])),
    }));
  }

  private settingsKey(config: Config): string {
    return JSON.stringify([
      worklistSource(config),
      config.worklist.query,
      config.worklist.intervalSeconds,
    ]);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() =>
        this.schedule(this.config().worklist.intervalSeconds * 1000),
      );
    }, ms);
    this.timer.unref();
  }

  private async replicateNow(): Promise<RefreshResult> {
    const config = this.config();
    const source = worklistSource(config);
    if (!source) return { ok: false, reason: 'no node is marked worklistSource' };
    const before = await this.store.state();
    try {
      const replicated = await replicate(this.store, config, source, nodePeer(config, source));
      this.logSuccess(source.name, replicated, before.failingSince);
      this.expired = false;
      return { ok: true, replicated };
    } catch (err) {
      const reason = (err as Error).message;
      const at = new Date().toISOString();
      await this.store.recordFailure(at, reason).catch(() => undefined);
      if (!before.failingSince)
        log.warn('worklist source not answering: modalities get the copy', {
          source: source.name,
          reason,
          copy: before.lastSuccessAt ?? 'none',
        });
      else log.debug('worklist source still not answering', { source: source.name, reason });
      await this.lookForExpiry();
      return { ok: false, reason };
    }
  }

  private logSuccess(source: string, r: Replicated, failingSince: string | null): void {
    if (failingSince) log.info('worklist source answers again', { source, failingSince });
    const fields = {
      source,
      items: r.items,
      added: r.added,
      changed: r.changed,
      removed: r.removed,
      skipped: r.skipped,
      ms: r.ms,
    };
    // Once an interval: the log hears of it when something changed.
    if (r.added + r.changed + r.removed + r.skipped > 0 || failingSince)
      log.info('worklist replicated', fields);
    else log.debug('worklist replicated', fields);
  }

  /** The copy passing its serving window is said once, loudly. */
  private async lookForExpiry(): Promise<void> {
    const s = await this.status().catch(() => null);
    const expired = s?.state === 'expired';
    if (expired && !this.expired)
      log.error(
        'worklist copy older than worklist.maxAgeSeconds: modalities get C001 until the source answers',
        {
          source: s.source,
          copy: s.lastSuccessAt,
          maxAgeSeconds: s.maxAgeSeconds,
        },
      );
    this.expired = expired;
  }
}
