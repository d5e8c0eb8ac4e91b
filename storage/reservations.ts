// The bytes that instances still being received will write. The free space statfs reads
// already holds what they have written; what they have not written yet is counted against
// it, so that ten C-STOREs arriving at once are not all admitted on the same free megabytes.
// A C-STORE does not say how large its data set is (PS3.7 9.3.1: it streams in P-DATA), so
// each is expected to be as large as the largest of the last instances stored.

const RECENT = 32;

/** One instance being received: what it is expected to write, and what it has written. */
export class Reservation {
  written = 0;
  constructor(readonly expected: number) {}

  /** What it is still expected to write. */
  get outstanding(): number {
    return Math.max(0, this.expected - this.written);
  }
}

export class Reservations {
  private readonly open = new Set<Reservation>();
  private readonly recent: number[] = [];

  /** Bytes the instances being received are still expected to write. */
  get pendingBytes(): number {
    let sum = 0;
    for (const r of this.open) sum += r.outstanding;
    return sum;
  }

  take(): Reservation {
    const r = new Reservation(this.recent.length ? Math.max(...this.recent) : 0);
    this.open.add(r);
    return r;
  }

  /** The receive ended; a stored instance's size teaches the next expectations. */
  release(r: Reservation, stored: boolean): void {
    if (!this.open.delete(r)) return;
    if (!stored) return;
    this.recent.push(r.written);
    if (this.recent.length > RECENT) this.recent.shift();
  }
}

/** Decides whether an instance may come in, and keeps room for it while it is written. */
export interface Admission {
  /** Before the first byte: a reservation, or OutOfResourcesError with the reason. */
  admit(): Promise<Reservation>;
  /** Before writing `bytes` more: resolves when there is room, or OutOfResourcesError. */
  room(r: Reservation, bytes: number): Promise<void>;
  /** After the last byte: stored or not, the reservation ends. */
  release(r: Reservation, stored: boolean): void;
}

/** No disk to watch (reindex, tests of the store alone): everything is admitted. */
export const ADMIT_ALL: Admission = {
  admit: () => Promise.resolve(new Reservation(0)),
  room: (r, bytes) => {
    r.written += bytes;
    return Promise.resolve();
  },
  release: () => undefined,
};
