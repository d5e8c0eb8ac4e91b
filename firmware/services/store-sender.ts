// Sending cached instances by C-STORE: what forwarding, C-MOVE and C-GET sub-operations
// share. Contexts are proposed per (SOP class, stored transfer syntax), with the other
// uncompressed syntaxes as an alternative the box can transcode to; each instance is
// streamed from its file verbatim unless the peer only took the alternative.
import type { AcceptedContext } from '../dicom/acse';
import type { EstablishedAssociation } from '../dicom/association';
import { withDeflatePadding } from '../dicom/dataset/deflate-padding';
import { canTranscode } from '../dicom/dataset/transcoder';
import { CommandField } from '../dicom/dimse/command-field';
import type { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { PresentationContextResult, type PresentationContextRq } from '../dicom/pdu';
import { UNCOMPRESSED_SYNTAXES } from '../dicom/registry/transfer-syntaxes';
import {
  COMPRESSIBLE_SYNTAXES,
  compressedDataset,
  JPEG_LS_LOSSLESS,
  type CompressionPlan,
} from '../codec/compress-instance';
import { coercedDataset } from '../codec/coerced-instance';
import { transcodedDataset } from '../codec/transcoded-instance';
import type { ElementValue } from '../dicom/dataset/element-replacement';
import { openCacheFile, readRange } from '../../storage/cache-file';
import type { Cache } from '../../storage/cache';
import type { CachedInstance } from '../../storage/index';

export type SendableInstance = Omit<CachedInstance, 'studyInstanceUid'>;

/** The presentation context to use for a (SOP class, stored syntax), and the syntax it carries. */
export interface Route {
  readonly contextId: number;
  readonly transferSyntax: string;
  /** An accepted JPEG-LS Lossless context for the SOP class (a node that compresses). */
  readonly compressedContextId?: number;
}

/** Routes by "sopClass|transferSyntax"; null: the peer takes neither the syntax nor an alternative. */
export type Routes = Map<string, Route | null>;

export function routeKey(i: { sopClassUid: string; transferSyntaxUid: string }): string {
  return `${i.sopClassUid}|${i.transferSyntaxUid}`;
}

export interface Proposal {
  readonly contexts: PresentationContextRq[];
  /** Resolves the routes once the association is accepted. */
  routes(association: EstablishedAssociation): Routes;
}

/**
 * Contexts for a set of instances (at most 64 distinct pairs: 128 contexts, PS3.8
 * §9.3.2.2). With `compress`, a JPEG-LS Lossless context too for each uncompressed pair,
 * as long as there is room: the original's contexts come first, they are the fallback.
 */
export function proposeContexts(keys: readonly string[], compress = false): Proposal {
  const contexts: PresentationContextRq[] = [];
  const proposals = new Map<string, { exact: number; alternative?: number; compressed?: number }>();
  for (const key of keys) {
    const [sopClassUid, ts] = key.split('|') as [string, string];
    const exact = contexts.length * 2 + 1;
    contexts.push({ id: exact, abstractSyntax: sopClassUid, transferSyntaxes: [ts] });
    const alternatives = UNCOMPRESSED_SYNTAXES.filter((t) => canTranscode(ts, t));
    if (alternatives.length > 0) {
      const alternative = contexts.length * 2 + 1;
      contexts.push({
        id: alternative,
        abstractSyntax: sopClassUid,
        transferSyntaxes: alternatives,
      });
      proposals.set(key, { exact, alternative });
    } else proposals.set(key, { exact });
  }
  if (compress)
    for (const [key, p] of proposals) {
      const [sopClassUid, ts] = key.split('|') as [string, string];
      if (contexts.length >= 128 || !COMPRESSIBLE_SYNTAXES.includes(ts)) continue;
      const compressed = contexts.length * 2 + 1;
      contexts.push({
        id: compressed,
        abstractSyntax: sopClassUid,
        transferSyntaxes: [JPEG_LS_LOSSLESS],
      });
      proposals.set(key, { ...p, compressed });
    }
  return {
    contexts,
    routes(association) {
      const accepted = new Map(
        association.info.ac.presentationContexts
          .filter((pc) => pc.result === PresentationContextResult.Acceptance)
          .map((pc) => [pc.id, pc.transferSyntax] as const),
      );
      const routes: Routes = new Map();
      for (const [key, p] of proposals) {
        const exactTs = accepted.get(p.exact);
        const alternativeTs = p.alternative !== undefined ? accepted.get(p.alternative) : undefined;
        const compressed =
          p.compressed !== undefined && accepted.get(p.compressed) === JPEG_LS_LOSSLESS
            ? { compressedContextId: p.compressed }
            : {};
        if (exactTs !== undefined)
          routes.set(key, { contextId: p.exact, transferSyntax: exactTs, ...compressed });
        else if (alternativeTs !== undefined)
          routes.set(key, {
            contextId: p.alternative!,
            transferSyntax: alternativeTs,
            ...compressed,
          });
        else routes.set(key, null);
      }
      return routes;
    },
  };
}

/** A route among contexts already accepted (C-GET: the requester proposed them). */
export function routeAmong(
  contexts: Iterable<AcceptedContext>,
  instance: SendableInstance,
): Route | null {
  let alternative: Route | null = null;
  for (const c of contexts) {
    if (c.abstractSyntax !== instance.sopClassUid) continue;
    if (c.transferSyntax === instance.transferSyntaxUid)
      return { contextId: c.id, transferSyntax: c.transferSyntax };
    if (!alternative && canTranscode(instance.transferSyntaxUid, c.transferSyntax)) {
      alternative = { contextId: c.id, transferSyntax: c.transferSyntax };
    }
  }
  return alternative;
}

export interface SendOptions {
  /** C-MOVE sub-operations name who asked (PS3.7 §9.3.1.1). */
  readonly moveOriginator?: { aeTitle: string; messageId: number };
  /** Send compressed as planned, on the route's JPEG-LS context (when it has one). */
  readonly compressed?: CompressionPlan;
  /** Elements the copy carries instead of its own (a worklist rule's coercion, forwarding only). */
  readonly coerce?: readonly ElementValue[];
  /** Stream filter, e.g. a bandwidth cap. */
  readonly through?: (data: AsyncIterable<Buffer>) => AsyncIterable<Buffer>;
  readonly timeoutMs?: number;
  /** For the log line when transcoding. */
  readonly peer: string;
}

/** Sends one instance; resolves with the peer's status and error comment. */
export async function sendInstance(
  requestor: DimseRequestor,
  cache: Cache,
  route: Route,
  instance: SendableInstance,
  options: SendOptions,
): Promise<{ status: number; comment?: string }> {
  const file = await openCacheFile(cache, instance.path);
  try {
    let data: AsyncIterable<Buffer> = readRange(file, instance.datasetOffset, instance.size);
    let contextId = route.contextId;
    let goesAs = route.transferSyntax;
    if (options.compressed && route.compressedContextId !== undefined) {
      contextId = route.compressedContextId;
      goesAs = JPEG_LS_LOSSLESS;
      data = compressedDataset(cache, instance, options.compressed);
    } else if (route.transferSyntax !== instance.transferSyntaxUid) {
      data = transcodedDataset(data, instance, route.transferSyntax, options.peer);
    } else data = withDeflatePadding(data, instance.transferSyntaxUid);
    if (options.coerce) data = coercedDataset(data, instance, goesAs, options.coerce, options.peer);
    if (options.through) data = options.through(data);
    const silence = new SilenceTimer(options.timeoutMs ?? 120_000);
    const response = requestor.request(
      contextId,
      {
        commandField: CommandField.CStoreRq,
        affectedSopClassUid: instance.sopClassUid,
        affectedSopInstanceUid: instance.sopInstanceUid,
        priority: 0,
        ...(options.moveOriginator
          ? {
              moveOriginatorAeTitle: options.moveOriginator.aeTitle,
              moveOriginatorMessageId: options.moveOriginator.messageId,
            }
          : {}),
      },
      silence.watching(data),
      undefined,
      () => silence.restart(),
    );
    try {
      const rsp = await Promise.race([response, silence.expired]);
      return {
        status: rsp.command.status ?? 0xffff,
        ...(rsp.command.errorComment ? { comment: rsp.command.errorComment } : {}),
      };
    } finally {
      silence.stop();
    }
  } finally {
    // Closing need not delay the next sub-operation.
    void file.close().catch(() => undefined);
  }
}

/**
 * The bound on a C-STORE: it fails when for `ms` no byte of it has moved and no response
 * came. It starts when the data set starts to go (with an Asynchronous Operations Window
 * a request may first wait its turn behind others, as long as they take), and a capped
 * transfer of a large instance that keeps moving is never cut.
 */
class SilenceTimer {
  private timer: NodeJS.Timeout | undefined;
  private fire: (err: Error) => void = () => undefined;
  private stopped = false;
  readonly expired = new Promise<never>((_, reject) => {
    this.fire = reject;
  });

  constructor(private readonly ms: number) {
    this.expired.catch(() => undefined); // raced, or never looked at once the response came
  }

  restart(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.fire(new Error(`no C-STORE-RSP within ${this.ms / 1000} s`)),
      this.ms,
    );
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async *watching(data: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    this.restart();
    for await (const chunk of data) {
      this.restart();
      yield chunk;
    }
  }
}
