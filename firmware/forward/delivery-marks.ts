// Delivered jobs are marked in the index together: when BATCH of them wait, on stop, or
// MARK_DELAY_MS after the first — one commit (one fsync on an SD card) for many deliveries
// even when forwarding keeps pace one instance at a time. A mark lost to a power cut means
// one more (harmless) send: delivery is at least once.
import { log } from '../log';
import type { SentCopy } from '../../storage/forward-queue';
import type { ForwardDeps } from './transport';

export const BATCH = 64;

/** How long a delivered job may wait to be marked, with others, in one commit. */
const MARK_DELAY_MS = 1000;

export interface MarksContext {
  readonly dest: string;
  readonly archive: ForwardDeps['archive'];
  /** Told when instances were marked delivered (storage commitment may now be granted). */
  readonly onDelivered?: () => void;
  /** Told of jobs left queued: a changed copy of their instance was stored meanwhile. */
  readonly onChanged?: (pks: readonly number[]) => void;
}

export class DeliveryMarks {
  /** Jobs delivered but not yet marked in the index: pk -> the copy sent, and when. */
  private readonly unmarked = new Map<number, { copy: SentCopy; at: string }>();
  private timer?: NodeJS.Timeout;

  /** `of` gives the destination's name, the index and whom to tell, as configured now. */
  constructor(private readonly of: () => MarksContext) {}

  /** How many wait: they are not to be sent again. */
  get size(): number {
    return this.unmarked.size;
  }

  has(pk: number): boolean {
    return this.unmarked.has(pk);
  }

  async add(jobs: readonly SentCopy[]): Promise<void> {
    const at = new Date().toISOString();
    for (const j of jobs) this.unmarked.set(j.pk, { copy: { pk: j.pk, path: j.path }, at });
    if (this.unmarked.size >= BATCH) await this.flush();
    else if (this.unmarked.size > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush().catch((err: unknown) => this.failed(err));
      }, MARK_DELAY_MS);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.unmarked.size === 0) return;
    const waiting = [...this.unmarked.values()];
    // The time of the latest delivery among them, not of the mark: an error after these
    // deliveries must not look older than them.
    const latest = waiting
      .map((w) => w.at)
      .sort()
      .at(-1)!;
    const { archive, onDelivered, onChanged } = this.of();
    const left = await archive.queue.finishJobs(
      waiting.map((w) => w.copy),
      { state: 'done', status: 0 },
      latest,
    );
    for (const w of waiting) this.unmarked.delete(w.copy.pk);
    onDelivered?.();
    if (left.length > 0) onChanged?.(left);
  }

  failed(err: unknown): void {
    log.error('delivered jobs not marked', {
      dest: this.of().dest,
      reason: (err as Error).message,
    });
  }
}
