// One replication of the worklist source into the copy (dcm4chee-arc's MWL import is the
// model): a C-FIND per station AE title and modality configured, over the days of the
// window; each item written as it arrives, in batches (memory: one batch, whatever the
// source lists); at most worklist.maxItems kept, the source told to stop there (C-CANCEL)
// and the log saying so. Only a replication that ran to its end removes the items the
// source no longer lists: a failed one leaves the copy as it was.
import type { Config, DimseNodeConfig } from '../config/config';
import type { Element } from '../dicom/dataset/dataset-writer';
import { formatStatus, Status } from '../dicom/dimse/status';
import { log } from '../log';
import type { PeerAddress } from '../services/open-association';
import type { WorklistItemRecord, WorklistStore } from '../../storage/worklist';
import { itemFromIdentifier, MalformedItemError } from './mwl-item';
import { replicationIdentifier, type ReplicationKeys } from './mwl-keys';
import { mwlFind, WorklistSourceError } from './mwl-scu';

/** Items written per transaction. */
const BATCH = 100;
/** Malformed items logged one by one per replication; the rest are counted. */
const LOGGED_MALFORMED = 3;

export interface Replicated {
  readonly items: number;
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
  /** Answers that were no usable item. */
  readonly skipped: number;
  /** The source listed more than worklist.maxItems. */
  readonly truncated: boolean;
  readonly ms: number;
}

/** "YYYYMMDD" of a local day `days` from `now`. */
export function localDate(now: Date, days = 0): string {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + days);
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
}

/** The queries a replication makes: each station by each modality (none configured: any). */
export function replicationQueries(config: Config['worklist'], now: Date): ReplicationKeys[] {
  const { stationAeTitles, modalities, daysBefore, daysAfter } = config.query;
  const dates = `${localDate(now, -daysBefore)}-${localDate(now, daysAfter)}`;
  const stations = stationAeTitles.length > 0 ? stationAeTitles : [undefined];
  const kinds = modalities.length > 0 ? modalities : [undefined];
  return stations.flatMap((stationAeTitle) =>
    kinds.map((modality) => ({
      dates,
      ...(stationAeTitle ? { stationAeTitle } : {}),
      ...(modality ? { modality } : {}),
    })),
  );
}

/** The items of one replication on their way into the copy, a batch at a time. */
class ItemSink {
  private batch: WorklistItemRecord[] = [];
  private readonly keys = new Set<string>();
  added = 0;
  changed = 0;
  skipped = 0;
  full = false;

  constructor(
    private readonly store: WorklistStore,
    private readonly sweep: number,
    private readonly maxItems: number,
    private readonly at: string,
    private readonly source: string,
  ) {}

  get items(): number {
    return this.keys.size;
  }

  async take(elements: Element[]): Promise<void> {
    if (this.full) return;
    let item: WorklistItemRecord;
    try {
      item = itemFromIdentifier(elements);
    } catch (err) {
      if (!(err instanceof MalformedItemError)) throw err;
      this.skip(err.message);
      return;
    }
    if (!this.keys.has(item.key)) {
      if (this.keys.size >= this.maxItems) {
        this.full = true;
        return;
      }
      this.keys.add(item.key);
    }
    this.batch.push(item);
    if (this.batch.length >= BATCH) await this.flush();
  }

  skip(reason: string): void {
    this.skipped++;
    if (this.skipped <= LOGGED_MALFORMED)
      log.warn('worklist item skipped', { source: this.source, reason });
  }

  async flush(): Promise<void> {
    const counts = await this.store.upsert(this.sweep, this.batch.splice(0), this.at);
    this.added += counts.added;
    this.changed += counts.changed;
  }
}

/**
 * Replicates the source into the store. Throws WorklistSourceError when the source fails
 * (the copy is then as it was, but for items already written, which are true of the source).
 */
export async function replicate(
  store: WorklistStore,
  config: Config,
  source: DimseNodeConfig,
  peer: PeerAddress,
  now = new Date(),
): Promise<Replicated> {
  const started = Date.now();
  const at = now.toISOString();
  const settings = config.worklist;
  const sweep = await store.beginSweep(source.name, at);
  const sink = new ItemSink(store, sweep, settings.maxItems, at, source.name);
  for (const keys of replicationQueries(settings, now)) {
    const result = await mwlFind(
      peer,
      replicationIdentifier(keys),
      {
        match: (elements) => sink.take(elements),
        malformed: (reason) => sink.skip(reason),
        enough: () => sink.full,
      },
      settings.timeoutSeconds * 1000,
    );
    if (!result.cancelled && result.status !== Status.Success)
      throw new WorklistSourceError(
        `answered ${formatStatus(result.status)}${result.errorComment ? `: ${result.errorComment}` : ''}`,
      );
    if (sink.full) break;
  }
  await sink.flush();
  if (sink.full)
    log.warn(
      'worklist source lists more items than worklist.maxItems: the first kept, the rest ignored',
      {
        source: source.name,
        maxItems: settings.maxItems,
      },
    );
  if (sink.skipped > LOGGED_MALFORMED)
    log.warn('worklist items skipped', { source: source.name, count: sink.skipped });
  const removed = await store.removeUnseen(sweep);
  await store.recordSuccess(at, sink.full);
  return {
    items: sink.items,
    added: sink.added,
    changed: sink.changed,
    removed,
    skipped: sink.skipped,
    truncated: sink.full,
    ms: Date.now() - started,
  };
}
