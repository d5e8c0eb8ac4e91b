// Decides pending storage commitments and delivers their N-EVENT-REPORTs (PS3.4 J.3.3).
// An item is committed when the instance is durable in the cache under the same SOP
// class ("stored") and, with the "forwarded" policy, when every forward destination has
// accepted it. Decided — every item committed or failed, or the deadline passed — the
// report goes back on the requester's association if it is still open, else over a new
// association to the requester's node (SCP role proposed by role selection), retried
// until it is delivered. Pending commitments live in SQLite, so a restart resumes them.
import type { Config } from '../../config/config';
import { commitPolicy, isDimse } from '../../config/config';
import type { EstablishedAssociation } from '../../dicom/association';
import { encodeDataset } from '../../dicom/dataset/dataset-writer';
import { DimseRequestor } from '../../dicom/dimse/dimse-requestor';
import { nEventReportRq } from '../../dicom/dimse/n-messages';
import { PresentationContextResult } from '../../dicom/pdu';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  transferSyntax,
} from '../../dicom/registry/transfer-syntaxes';
import { log } from '../../log';
import { nodePeer, openAssociation } from '../open-association';
import type { Archive } from '../../../storage/archive';
import {
  FailureReason,
  reportDataset,
  STORAGE_COMMITMENT_INSTANCE,
  STORAGE_COMMITMENT_SOP_CLASS,
  type CommitmentItem,
  type Decision,
} from './commitment';

/** Where a report can go while the requesting association is still open. */
interface LiveRoute {
  readonly association: EstablishedAssociation;
  readonly requestor: DimseRequestor;
  readonly contextId: number;
}

const SWEEP_MS = 2000;

export class CommitmentReporter {
  private readonly live = new Map<string, LiveRoute>();
  private readonly busy = new Set<string>();
  private readonly nextTry = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Sweeps and deliveries under way: stop() waits for them before the index closes. */
  private readonly running = new Set<Promise<void>>();

  constructor(
    /** The archive's commitments (the only part of it commitment reporting reads). */
    private readonly index: Pick<Archive, 'commitments'>,
    private readonly config: () => Config,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.spawn(() => this.sweep()), SWEEP_MS);
    this.timer.unref();
    this.spawn(() => this.sweep());
  }

  /**
   * Starts nothing new and waits for what is under way (a delivery waiting on a silent
   * peer, at most graceMs): the index may be closed once this resolves. A report not yet
   * marked delivered is delivered again after the next start.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.running),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }

  /** Starts work unless stopped (a timer or a nudge may come after stop()). */
  private spawn(start: () => Promise<void>): void {
    if (this.stopped) return;
    const work = start();
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  /** A new commitment; the report may use this association while it stays open. */
  track(transactionUid: string, route: LiveRoute): void {
    this.live.set(transactionUid, route);
    route.association.once('closed', () => this.live.delete(transactionUid));
    this.spawn(() => this.sweep());
    // Look again when the grace for missing instances ends, not at the next periodic sweep.
    setTimeout(() => this.nudge(), this.config().commitGraceSeconds * 1000 + 20).unref();
  }

  /** Something changed (an instance stored or delivered): look again at once. */
  nudge(): void {
    this.spawn(() => this.sweep());
  }

  private sweeping = false;
  private again = false;

  private async sweep(): Promise<void> {
    if (this.sweeping) {
      this.again = true;
      return;
    }
    this.sweeping = true;
    try {
      do {
        this.again = false;
        for (const c of await this.index.commitments.pendingCommitments()) {
          if (this.stopped) return;
          if (this.busy.has(c.transactionUid)) continue;
          if ((this.nextTry.get(c.transactionUid) ?? 0) > Date.now()) continue;
          const decision = await this.decide(
            c.transactionUid,
            Date.parse(c.deadline) <= Date.now(),
            Date.parse(c.createdAt) + this.config().commitGraceSeconds * 1000 <= Date.now(),
          );
          if (decision) this.spawn(() => this.deliver(c.transactionUid, c.requesterAe, decision));
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      log.error('storage commitment sweep failed', { reason: (err as Error).message });
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * The decision, or undefined while some item may still be committed. What is known is
   * answered at once (J.3.3: the SCP reports when it has decided): an instance stored is
   * committed under "stored"; one not in the cache is failed (0112) once the grace for a
   * C-STORE still in flight is over; under "forwarded" a stored instance waits for its
   * destinations until the deadline.
   */
  private async decide(
    transactionUid: string,
    expired: boolean,
    graceOver: boolean,
  ): Promise<Decision | undefined> {
    const forwarded = commitPolicy(this.config()) === 'forwarded';
    const committed: CommitmentItem[] = [];
    const failed: Array<CommitmentItem & { reason: number }> = [];
    for (const item of await this.index.commitments.commitmentItems(transactionUid)) {
      const ref = { sopClassUid: item.sopClassUid, sopInstanceUid: item.sopInstanceUid };
      if (item.storedSopClassUid !== null && item.storedSopClassUid !== item.sopClassUid) {
        failed.push({ ...ref, reason: FailureReason.ClassInstanceConflict });
      } else if (item.storedSopClassUid !== null && (!forwarded || item.undelivered === 0)) {
        committed.push(ref);
      } else if (item.storedSopClassUid === null && (graceOver || expired)) {
        failed.push({ ...ref, reason: FailureReason.NoSuchObjectInstance });
      } else if (expired) {
        failed.push({ ...ref, reason: FailureReason.ProcessingFailure });
      } else {
        return undefined;
      }
    }
    return { committed, failed };
  }

  private async deliver(
    transactionUid: string,
    requesterAe: string,
    decision: Decision,
  ): Promise<void> {
    this.busy.add(transactionUid);
    try {
      // The requester's own association while it is open and not being released; if the
      // report cannot go there (the requester released meanwhile), a new association to
      // the requester at once, not after a retry interval.
      const live = this.live.get(transactionUid);
      let sent = false;
      if (live && live.association.state === 'Sta6') {
        try {
          await this.send(live, transactionUid, decision);
          sent = true;
        } catch (err) {
          if (live.association.state === 'Sta6') throw err;
        }
      }
      if (!sent) await this.sendToRequester(requesterAe, transactionUid, decision);
      const { eventTypeId } = reportDataset(transactionUid, decision);
      await this.index.commitments.markCommitmentReported(transactionUid, eventTypeId);
      this.nextTry.delete(transactionUid);
      log.info('storage commitment reported', {
        transaction: transactionUid,
        to: requesterAe,
        committed: decision.committed.length,
        failed: decision.failed.length,
      });
    } catch (err) {
      if (this.stopped) return; // delivered again after the next start
      const wait = Math.min(60_000, (this.config().forwarding.retryInitialSeconds || 5) * 1000);
      this.nextTry.set(transactionUid, Date.now() + wait);
      log.warn('storage commitment report not delivered, will retry', {
        transaction: transactionUid,
        to: requesterAe,
        reason: (err as Error).message,
      });
    } finally {
      this.busy.delete(transactionUid);
    }
  }

  private async send(route: LiveRoute, transactionUid: string, decision: Decision): Promise<void> {
    const { eventTypeId, elements } = reportDataset(transactionUid, decision);
    const ts = transferSyntax(
      route.association.info.contexts.get(route.contextId)!.transferSyntax,
    )!;
    const rsp = await route.requestor.request(
      route.contextId,
      nEventReportRq(STORAGE_COMMITMENT_SOP_CLASS, STORAGE_COMMITMENT_INSTANCE, eventTypeId, 0),
      encodeDataset(elements, { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian }),
    );
    if ((rsp.command.status ?? 0xffff) !== 0) {
      throw new Error(
        `N-EVENT-REPORT answered with status 0x${(rsp.command.status ?? 0xffff).toString(16)}`,
      );
    }
  }

  /** A new association to the requester's node, proposing the SCP role for ourselves (J.3.3). */
  private async sendToRequester(
    requesterAe: string,
    transactionUid: string,
    decision: Decision,
  ): Promise<void> {
    const config = this.config();
    const node = config.nodes.filter(isDimse).find((n) => n.ae === requesterAe);
    if (!node)
      throw new Error(
        `the requester ${requesterAe} is not a known node, and its association has ended`,
      );
    const association = await openAssociation(
      nodePeer(config, node),
      [
        {
          id: 1,
          abstractSyntax: STORAGE_COMMITMENT_SOP_CLASS,
          transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN],
        },
      ],
      [{ sopClassUid: STORAGE_COMMITMENT_SOP_CLASS, scuRole: false, scpRole: true }],
    );
    try {
      const pc = association.info.ac.presentationContexts.find((p) => p.id === 1);
      if (pc?.result !== PresentationContextResult.Acceptance) {
        throw new Error(`${requesterAe} did not accept the Storage Commitment SOP class`);
      }
      await this.send(
        { association, requestor: new DimseRequestor(association), contextId: 1 },
        transactionUid,
        decision,
      );
    } finally {
      await association.release().catch(() => association.abort());
    }
  }
}
