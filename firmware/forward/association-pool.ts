// The associations the box forwards over to one DIMSE destination (issue 30). On a far WAN
// a C-STORE waits a round trip for its response whatever the bandwidth, so one association
// moves one instance per round trip; several, each with the operations window the
// destination granted (PS3.7 D.3.3.3), keep the link busy. The pool leases a place on an
// association for each C-STORE: up to `limit` associations, each carrying at most its
// window of requests, so the instances being read at once are bounded by limit × window.
//
// The first association is opened when a batch begins, and its failure is the
// destination's (the queue runner backs off). The others are opened in the background
// while requests wait; one refused (A-ASSOCIATE-RJ, a PACS with a licence for fewer),
// unanswered or failing while others work only means the destination takes fewer: the
// pool goes on with those it has, and tries for more again after a while.
import type { EstablishedAssociation } from '../dicom/association';
import type { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import type { Routes } from '../services/store-sender';

/** An association opened for forwarding, as the transport opened it. */
export interface ForwardAssociation {
  readonly association: EstablishedAssociation;
  readonly requestor: DimseRequestor;
  readonly routes: Routes;
  /** The accepted Storage Commitment context, when the node is asked to commit. */
  readonly commitContextId?: number;
  /** Requests it may have outstanding at once: the granted operations window, 1 without. */
  readonly window: number;
}

/** A place on an association for one request; released when its response came or it failed. */
export interface Lease {
  readonly open: ForwardAssociation;
  /**
   * The association ended while other requests than this one were outstanding on it:
   * which of them its end is to blame on is not known.
   */
  readonly shared: boolean;
  release(): void;
}

export interface PoolSettings {
  /** Associations at once, at most. */
  readonly limit: number;
  /** Requests started on one association before it is released and another opened. */
  readonly perAssociation: number;
}

/** Why an extra association could not be had: said once, when the pool goes on with fewer. */
export interface Fewer {
  readonly open: number;
  readonly reason: string;
}

/**
 * After an extra association failed, the pool keeps to the number it has for this long
 * before it tries for more: a PACS that allows two is asked for a third now and then,
 * not at every instance.
 */
export const FEWER_HOLD_MS = 5 * 60_000;

interface Member {
  readonly open: ForwardAssociation;
  outstanding: number;
  /** Leased alone: nothing else goes on it until that request ends. */
  alone: boolean;
  started: number;
  /** No new requests: released once those outstanding have ended. */
  retiring: boolean;
  /** Kept for a request that is to go alone: takes no others until it is free. */
  reserved: boolean;
  /** Requests outstanding when it ended (undefined while it lives). */
  outstandingAtEnd?: number;
}

export class AssociationPool {
  private readonly members = new Set<Member>();
  private opening = 0;
  /** While set, associations beyond `ceiling` are not asked for. */
  private holdUntil = 0;
  private ceiling = Infinity;
  /** An extra association refused while others were open or coming: why (until settled). */
  private refusal: Error | undefined;
  /** The number last said to onFewer, while its hold lasts (it is said once). */
  private said: { open: number; until: number } | undefined;
  private waiters: Array<(failure?: Error) => void> = [];
  private closed = false;

  constructor(
    private readonly settings: () => PoolSettings,
    /** Opens one association (throws why it could not). */
    private readonly openOne: () => Promise<ForwardAssociation>,
    /** Told when an extra association failed and the pool goes on with fewer. */
    private readonly onFewer: (fewer: Fewer) => void,
  ) {}

  /** Associations open now. */
  get size(): number {
    return this.members.size;
  }

  /** The open associations (for a request that any of them may carry, such as N-ACTION). */
  get associations(): ForwardAssociation[] {
    return [...this.members].map((m) => m.open);
  }

  /**
   * At least one association open, opened now if none is (throws, when none can be, why):
   * a batch's first request goes on it, and its failure is the destination's.
   */
  async ready(): Promise<void> {
    this.closed = false;
    if (this.members.size > 0) return;
    this.add(await this.openOne());
  }

  /**
   * A new association now, whatever is open (after a transfer broke: does the destination
   * still take associations?). Kept when the limit allows, else released at once.
   */
  async fresh(): Promise<void> {
    this.closed = false;
    const open = await this.openOne();
    if (this.members.size >= this.settings().limit) return end(open.association, false);
    this.add(open);
    this.notify();
  }

  /**
   * A place for one request: on the association with the fewest outstanding that has room
   * (`alone`: one with none, kept for this request only). Waits while all are full,
   * opening another in the background when the limit allows. Throws when there is none
   * left and none could be opened.
   */
  async lease(alone: boolean): Promise<Lease> {
    for (;;) {
      if (this.closed) throw new Error('the destination’s associations were closed');
      this.shed();
      const member = this.roomy(alone);
      if (member) return this.leaseOn(member, alone);
      if (this.mayOpen()) this.openInBackground();
      // A request that must go alone would wait for ever behind a steady flow of others:
      // the least busy association takes no more until it is free for it.
      else if (alone) this.reserve();
      const failure = await new Promise<Error | undefined>((resolve) => this.waiters.push(resolve));
      if (failure) throw failure;
    }
  }

  /**
   * Ends every association: released (at once when `abort`), the outstanding fail. An
   * abort is the destination's trouble (it went down, restarted): how many associations
   * it took before says nothing of what it takes once back, so a limit learned is forgotten
   * (else a PACS restarted mid-transfer, whose extra associations were refused while it
   * was down, would be used with fewer for FEWER_HOLD_MS after it came back).
   */
  async close(abort = false): Promise<void> {
    const members = [...this.members];
    this.members.clear();
    this.closed = true;
    if (abort) this.holdUntil = 0;
    if (abort) this.said = undefined;
    this.notify(new Error('the destination’s associations were closed'));
    await Promise.all(members.map((m) => end(m.open.association, abort)));
  }

  /** Aborts every association now (stopping, and the destination hangs). */
  abortNow(): void {
    for (const m of this.members) m.open.association.abort();
  }

  /** Ends one association at once (a request on it failed mid-message). */
  abort(open: ForwardAssociation): void {
    open.association.abort();
  }

  /**
   * More open than allowed now (the node's `associations` lowered, for a PACS that
   * complains): the least busy take no more requests and are released once theirs end.
   */
  private shed(): void {
    const going = [...this.members].filter((m) => !m.retiring);
    let extra = going.length - this.allowed;
    for (const m of going.sort((a, b) => a.outstanding - b.outstanding)) {
      if (extra-- <= 0) return;
      m.retiring = true;
      if (m.outstanding === 0) this.retire(m);
    }
  }

  private roomy(alone: boolean): Member | undefined {
    let best: Member | undefined;
    for (const m of this.members) {
      if (!this.usable(m) || (m.reserved && !alone)) continue;
      if (alone ? m.outstanding > 0 : m.outstanding >= m.open.window) continue;
      if (!best || m.outstanding < best.outstanding) best = m;
    }
    return best;
  }

  private usable(m: Member): boolean {
    return !m.retiring && !m.alone && m.open.association.state === 'Sta6';
  }

  /** Keeps the least busy association for a request that is to go alone (one at a time). */
  private reserve(): void {
    let best: Member | undefined;
    for (const m of this.members) {
      if (!this.usable(m)) continue;
      if (m.reserved) return;
      if (!best || m.outstanding < best.outstanding) best = m;
    }
    if (best) best.reserved = true;
  }

  private leaseOn(member: Member, alone: boolean): Lease {
    member.outstanding++;
    member.alone = alone;
    if (alone) member.reserved = false;
    if (++member.started >= this.settings().perAssociation) member.retiring = true;
    let released = false;
    return {
      open: member.open,
      get shared() {
        return (member.outstandingAtEnd ?? member.outstanding) > 1;
      },
      release: () => {
        if (released) return;
        released = true;
        member.outstanding--;
        member.alone = false;
        if (member.retiring && member.outstanding === 0) this.retire(member);
        this.notify();
      },
    };
  }

  /** Associations it may have now: the limit, or fewer while a refusal is remembered. */
  get allowed(): number {
    const { limit } = this.settings();
    return Date.now() < this.holdUntil ? Math.min(limit, this.ceiling) : limit;
  }

  private mayOpen(): boolean {
    const count = this.members.size + this.opening;
    return count === 0 || count < this.allowed;
  }

  private openInBackground(): void {
    this.opening++;
    this.openOne().then(
      (open) => {
        this.opening--;
        if (this.closed) void end(open.association, false);
        else this.add(open);
        this.settle();
        this.notify();
      },
      (err: Error) => {
        this.opening--;
        if (this.members.size + this.opening > 0) this.refused(err);
        this.settle();
        // None left and none coming: those waiting learn why (the destination's trouble).
        this.notify(this.members.size === 0 && this.opening === 0 ? err : undefined);
      },
    );
  }

  /**
   * An extra association failed while others are open or coming: no more are asked for
   * while those coming settle (they were asked for at once, and answer in any order).
   */
  private refused(err: Error): void {
    this.refusal ??= err;
    this.ceiling = this.members.size + this.opening;
    this.holdUntil = Date.now() + FEWER_HOLD_MS;
  }

  /**
   * Once none is opening, what a refusal means is known: the destination takes those open
   * (a PACS that takes 2, asked for 3 more at once, may refuse one before it accepts
   * another). The pool goes on with them for FEWER_HOLD_MS, said once.
   */
  private settle(): void {
    const err = this.refusal;
    if (this.opening > 0 || !err) return;
    this.refusal = undefined;
    const open = this.members.size;
    if (open === 0) {
      this.holdUntil = 0; // none works: the destination's trouble, not a limit
      return;
    }
    const now = Date.now();
    this.ceiling = open;
    this.holdUntil = now + FEWER_HOLD_MS;
    if (this.said && this.said.open === open && now < this.said.until) return;
    this.said = { open, until: this.holdUntil };
    this.onFewer({ open, reason: err.message });
  }

  private add(open: ForwardAssociation): void {
    const member: Member = {
      open,
      outstanding: 0,
      alone: false,
      started: 0,
      retiring: false,
      reserved: false,
    };
    this.members.add(member);
    open.association.once('closed', () => {
      member.outstandingAtEnd = member.outstanding;
      this.members.delete(member);
      this.notify();
    });
  }

  private retire(member: Member): void {
    this.members.delete(member);
    void end(member.open.association, false);
  }

  private notify(failure?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(failure);
  }
}

/** Released (aborted when that fails, or at once when asked). */
async function end(association: EstablishedAssociation, abort: boolean): Promise<void> {
  if (abort || association.state !== 'Sta6') {
    association.abort();
    return;
  }
  await association.release().catch(() => association.abort());
}
