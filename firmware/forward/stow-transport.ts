// Forwarding to a DICOMweb destination with STOW-RS (PS3.18 §10.5): the queued instances
// go many to a request (up to the node's batch limits), each part the cached Part 10 file
// byte for byte (promise 2), streamed; one held in a syntax web services do not carry
// (Implicit VR Little Endian, Explicit VR Big Endian: PS3.18 §8.7.3) is transcoded to
// Explicit VR Little Endian on the way, and the log says so. The Store Instances Response
// decides per instance as a C-STORE status would: stored (a warning is recorded), refused
// for good (with the Failure Reason), out of resources (retried); a request refused as a
// whole without a word per instance is for the queue runner to send again one instance at
// a time. The destination down, over capacity or refusing the credentials is its own
// trouble: the queue backs off, nothing is charged, and the reason shows on the dashboard
// until fixed.
import type { DicomwebNodeConfig } from '../config/config';
import { CodecError } from '../codec/jpeg-ls';
import { coercedDataset, coercedFile } from '../codec/coerced-instance';
import { compressedFile, JPEG_LS_LOSSLESS } from '../codec/compress-instance';
import { transcodedFile } from '../codec/transcoded-instance';
import { ElementReplacementError, type ElementValue } from '../dicom/dataset/element-replacement';
import { DatasetParseError } from '../dicom/errors';
import {
  DicomwebClient,
  queryOnce,
  queryWorks,
  type HttpAnswer,
} from '../dicomweb/dicomweb-client';
import { judgeStow } from '../dicomweb/stow-response';
import { WEB_SERVICES_RULE, webTransferSyntax } from '../dicomweb/web-transfer-syntax';
import { readCacheFile } from '../../storage/cache-file';
import type { ForwardJob } from '../../storage/index';
import {
  TransientError,
  type ForwardDeps,
  type InstanceVerdict,
  type Outcome,
  type SendOptions,
  type Transport,
} from './transport';

export class StowTransport implements Transport<DicomwebNodeConfig> {
  readonly worksWhen = 'answered queries';
  private client: DicomwebClient | null = null;

  constructor(
    private node: DicomwebNodeConfig,
    private deps: ForwardDeps,
  ) {}

  get connected(): boolean {
    return this.client !== null;
  }

  get connections(): number {
    return this.client ? 1 : 0;
  }

  /** One request at a time: a request already carries many instances. */
  readonly parallel = 1;

  reconfigure(node: DicomwebNodeConfig, deps: ForwardDeps): boolean {
    const before = this.node;
    this.node = node;
    this.deps = deps;
    return (
      JSON.stringify({ ...before, forward: 0, forwardWhen: 0 }) !==
      JSON.stringify({ ...node, forward: 0, forwardWhen: 0 })
    );
  }

  async prepare(): Promise<void> {}

  requests(jobs: readonly ForwardJob[]): ForwardJob[][] {
    return batches(jobs, this.node.batch);
  }

  async send(jobs: readonly ForwardJob[], options: SendOptions): Promise<Outcome> {
    this.client ??= new DicomwebClient(this.node);
    const parts = await this.parts(jobs, options);
    let answer: HttpAnswer;
    try {
      answer = await this.client.store(parts, options.through);
    } catch (err) {
      if (err instanceof CodecError) return { kind: 'codec', reason: err.message };
      if (err instanceof DatasetParseError)
        return this.unsendable(jobs, `cannot transcode for ${this.node.name}: ${err.message}`);
      if (err instanceof ElementReplacementError)
        return this.unsendable(jobs, `cannot coerce for ${this.node.name}: ${err.message}`);
      // Down, unreachable, TLS refused, silent: the runner asks whether it answers a query.
      return {
        kind: 'broken',
        reason: `${this.node.name} (${this.node.url}): ${(err as Error).message}`,
        cause: err,
      };
    }
    const sops = jobs.map((j) => j.sopInstanceUid);
    const verdict = judgeStow(answer.status, answer.body, sops, this.node.name);
    if (verdict.kind === 'destination') throw new TransientError(verdict.reason);
    if (verdict.kind === 'isolate') return { kind: 'isolate', reason: verdict.reason };
    const verdicts = new Map<number, InstanceVerdict>();
    for (const job of jobs) {
      verdicts.set(job.pk, verdict.verdicts.get(job.sopInstanceUid)!);
    }
    return { kind: 'answered', verdicts };
  }

  /** Each job's Part 10 file as it goes: compressed as planned, else as it is. */
  private async parts(
    jobs: readonly ForwardJob[],
    options: SendOptions,
  ): Promise<Array<() => AsyncIterable<Buffer>>> {
    const parts: Array<() => AsyncIterable<Buffer>> = [];
    for (const job of jobs) {
      const plan = await options.plan(job);
      const coerce = await options.coercion(job);
      const { cache } = this.deps;
      const coerced =
        (ts: string) =>
        (data: AsyncIterable<Buffer>): AsyncIterable<Buffer> =>
          coerce ? coercedDataset(data, job, ts, coerce, this.node.name) : data;
      parts.push(
        plan
          ? () => compressedFile(cache, job, plan, coerced(JPEG_LS_LOSSLESS))
          : this.asItIs(job, coerce, coerced(webTransferSyntax(job.transferSyntaxUid))),
      );
    }
    return parts;
  }

  /** The cached file, or (a syntax web services do not carry) transcoded to one they do. */
  private asItIs(
    job: ForwardJob,
    coerce: readonly ElementValue[] | undefined,
    filter: (data: AsyncIterable<Buffer>) => AsyncIterable<Buffer>,
  ): () => AsyncIterable<Buffer> {
    const { cache } = this.deps;
    const to = webTransferSyntax(job.transferSyntaxUid);
    if (to === job.transferSyntaxUid)
      return coerce
        ? () => coercedFile(cache, job, coerce, this.node.name)
        : () => readCacheFile(cache, job);
    return () => transcodedFile(cache, job, to, this.node.name, WEB_SERVICES_RULE, filter);
  }

  /**
   * A data set the box could not make into what goes (the transcoder could not read it, a
   * coercion could not keep its group length true), mid-request: the one instance fails
   * for good (it would fail the same way again); in a request of many, which one is not
   * known, and the runner sends them one at a time to find it.
   */
  private unsendable(jobs: readonly ForwardJob[], reason: string): Outcome {
    if (jobs.length > 1) return { kind: 'isolate', reason };
    return {
      kind: 'answered',
      verdicts: new Map([[jobs[0]!.pk, { kind: 'failed', status: null, reason }]]),
    };
  }

  /** Whether the destination answers a query now (a fresh connection, its credentials). */
  async works(): Promise<boolean> {
    await this.close(true);
    return (await queryOnce(this.node).catch(() => 599)) < 500;
  }

  /**
   * The query of the health check, on a connection of its own: the service answers, and
   * takes our credentials (a 401 probed would only be refused again at the STOW).
   */
  async probe(): Promise<boolean> {
    return queryWorks(await queryOnce(this.node));
  }

  async delivered(): Promise<void> {}

  async close(abort = false): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.close(abort);
  }

  abortNow(): void {
    void this.close(true);
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
