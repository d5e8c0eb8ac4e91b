// Forwarding to a DICOMweb destination with STOW-RS (PS3.18 §10.5): the queued instances
// go many to a request (up to the node's batch limits), each part the cached Part 10 file
// byte for byte (promise 2), streamed. The Store Instances Response decides per instance
// as a C-STORE status would: stored (a warning is recorded), refused for good (failed with
// the Failure Reason), out of resources (retried). A request refused as a whole without a
// word per instance is sent again one instance at a time, so that one bad instance fails
// alone and the rest go; so is one that fails in transfer while the destination still
// answers a query, the instance failing again set aside, then failed (the isolation DIMSE
// forwarding has). The destination down, over
// capacity or refusing the credentials is its own trouble: the queue backs off, nothing is
// charged, and the reason shows on the dashboard until it is fixed.
import { promises as fs } from 'node:fs';
import type { DicomwebNodeConfig } from '../config/config';
import { CodecError } from '../codec/jpeg-ls';
import { compressedFile, compressionFor } from '../codec/compress-instance';
import { DicomwebClient, queryOnce, queryWorks } from '../dicomweb/dicomweb-client';
import { judgeStow } from '../dicomweb/stow-response';
import { log } from '../log';
import { readCacheFile } from '../../storage/cache-file';
import type { ForwardJob } from '../../storage/index';
import { DestinationWorker, TransientError } from './destination-worker';

export class StowWorker extends DestinationWorker<DicomwebNodeConfig> {
  private client: DicomwebClient | null = null;
  /** Instances to send as they are: the destination refused them compressed. */
  private readonly asTheyAre = new Set<string>();

  protected get connected(): boolean {
    return this.client !== null;
  }

  protected abortNow(): void {
    void this.closeConnection(true);
  }

  protected peerChanged(before: DicomwebNodeConfig, after: DicomwebNodeConfig): boolean {
    return (
      JSON.stringify({ ...before, forward: 0, forwardWhen: 0 }) !==
      JSON.stringify({ ...after, forward: 0, forwardWhen: 0 })
    );
  }

  protected async closeConnection(abort = false): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.close(abort);
  }

  protected async sendJobs(jobs: readonly ForwardJob[], delivered: number[]): Promise<void> {
    for (const batch of batches(jobs, this.node.batch)) {
      if (!this.running || this.stale) return;
      await this.sendBatchOf(await this.present(batch), delivered);
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

  /** Whether the destination answers a query now (a fresh connection, its credentials). */
  private async answers(): Promise<boolean> {
    await this.closeConnection(true);
    return (await queryOnce(this.node).catch(() => 599)) < 500;
  }

  /**
   * The query of the health check, on a connection of its own: the service answers, and
   * takes our credentials (a 401 probed would only be refused again at the STOW).
   */
  protected async probe(): Promise<boolean> {
    return queryWorks(await queryOnce(this.node));
  }

  /**
   * Each job's Part 10 file as it goes: the cached file, or with the node's lossless
   * compression when the instance can take it. Returns the compressed jobs' SOP UIDs.
   */
  private async parts(
    batch: readonly ForwardJob[],
  ): Promise<{ parts: Array<() => AsyncIterable<Buffer>>; compressed: Set<string> }> {
    const compressed = new Set<string>();
    const parts: Array<() => AsyncIterable<Buffer>> = [];
    for (const job of batch) {
      const plan =
        this.node.compress && !this.asTheyAre.has(job.sopInstanceUid)
          ? await compressionFor(this.deps.cache, job, this.node.name)
          : undefined;
      if (plan) {
        compressed.add(job.sopInstanceUid);
        parts.push(() => compressedFile(this.deps.cache, job, plan));
      } else parts.push(() => readCacheFile(this.deps.cache, job));
    }
    return { parts, compressed };
  }

  private async sendBatchOf(batch: readonly ForwardJob[], delivered: number[]): Promise<void> {
    if (batch.length === 0) return;
    this.client ??= new DicomwebClient(this.node);
    const started = Date.now();
    this.inFlight = batch.length === 1 ? batch[0]!.sopInstanceUid : `${batch.length} instances`;
    log.debug('forwarding', { dest: this.node.name, instances: batch.length });
    const { parts, compressed } = await this.parts(batch);
    let answer;
    try {
      answer = await this.client.store(
        parts,
        this.node.maxBytesPerSecond ? (d) => this.limited(d) : undefined,
      );
    } catch (err) {
      if (err instanceof CodecError) {
        // The encoder's trouble, not the destination's: these go as they are, now.
        log.warn('compression failed: sending as they are', {
          dest: this.node.name,
          reason: err.message,
        });
        for (const sop of compressed) this.asTheyAre.add(sop);
        this.inFlight = null;
        return this.sendBatchOf(batch, delivered);
      }
      const reason = `${this.node.name} (${this.node.url}): ${(err as Error).message}`;
      this.inFlight = null;
      // Stopping (the request was cut short on purpose): the jobs stay queued, uncharged.
      if (!this.running) return;
      // Down, unreachable, TLS refused, silent: the destination's, unless it answers a
      // query now. Then one of these instances is to blame: sent alone, each in turn, the
      // one that fails again is set aside (and failed once its tries are spent).
      if (!(await this.answers())) throw new TransientError(reason);
      if (batch.length > 1) {
        log.warn('request failed in transfer: sending its instances one at a time', {
          dest: this.node.name,
          instances: batch.length,
          reason,
        });
        for (const job of batch) await this.sendBatchOf([job], delivered);
        return;
      }
      return this.setAsideOrFail(
        batch[0]!,
        `${reason} (while sending ${batch[0]!.sopInstanceUid})`,
        `${this.node.name} answered queries`,
      );
    } finally {
      this.inFlight = null;
    }
    const sops = batch.map((j) => j.sopInstanceUid);
    const verdict = judgeStow(answer.status, answer.body, sops, this.node.name);
    if (verdict.kind === 'destination') throw new TransientError(verdict.reason);
    if (verdict.kind === 'isolate') {
      if (batch.length === 1)
        return this.refused(batch[0]!, null, verdict.reason, compressed, delivered);
      log.warn('request refused as a whole: sending its instances one at a time', {
        dest: this.node.name,
        instances: batch.length,
        reason: verdict.reason,
      });
      for (const job of batch) await this.sendBatchOf([job], delivered);
      return;
    }
    let retry: string | undefined;
    for (const job of batch) {
      const v = verdict.verdicts.get(job.sopInstanceUid)!;
      if (v.kind === 'delivered') await this.accepted(job, v.status, delivered, started);
      else if (v.kind === 'failed')
        await this.refused(job, v.status, v.reason, compressed, delivered);
      else {
        await this.deps.index.queue.noteAttempt(job.pk, v.reason);
        retry = v.reason;
      }
    }
    if (retry) throw new TransientError(retry);
  }

  /** Refused for good: failed, unless it went compressed; then the original goes (once). */
  private async refused(
    job: ForwardJob,
    status: number | null,
    reason: string,
    compressed: ReadonlySet<string>,
    delivered: number[],
  ): Promise<void> {
    if (!compressed.has(job.sopInstanceUid)) return this.fail(job, status, reason);
    log.warn('refused compressed: sending it as it is', {
      dest: this.node.name,
      sop: job.sopInstanceUid,
      reason,
    });
    this.asTheyAre.add(job.sopInstanceUid);
    await this.sendBatchOf([job], delivered);
  }
}

/** The jobs cut into requests of at most maxInstances and (beyond a first) maxBytes. */
export function batches(
  jobs: readonly ForwardJob[],
  limits: DicomwebNodeConfig['batch'],
): ForwardJob[][] {
  const out: ForwardJob[][] = [];
  let current: ForwardJob[] = [];
  let bytes = 0;
  for (const job of jobs) {
    if (
      current.length > 0 &&
      (current.length >= limits.maxInstances || bytes + job.size > limits.maxBytes)
    ) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(job);
    bytes += job.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
