// What a STOW-RS response says of each instance sent (PS3.18 §10.5.3, the Store Instances
// Response Module of PS3.4 Table CC.2.3-1, as application/dicom+json), and what the
// forwarder makes of it. Pure: text and HTTP status in, a verdict per SOP Instance UID out.
import { formatTag, tagHex } from '../dicom/dataset/element-header';
import { verdictForStatus } from '../dicom/dimse/status';
import { Tag } from '../dicom/registry/tags';

/** A response body the box cannot read; the HTTP status alone decides then. */
export class StowResponseError extends Error {
  override name = 'StowResponseError';
}

export interface StoreResponse {
  /** Stored: SOP Instance UID → Warning Reason (0 when none). */
  readonly referenced: ReadonlyMap<string, number>;
  /** Not stored: SOP Instance UID → Failure Reason (0xC000 when none is given). */
  readonly failed: ReadonlyMap<string, number>;
}

/** The longest response body read: a batch's response is a few KB per hundred instances. */
export const MAX_RESPONSE_CHARS = 4 * 1024 * 1024;

type JsonElement = { readonly vr?: unknown; readonly Value?: unknown };
type JsonDataset = Readonly<Record<string, JsonElement | undefined>>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function items(dataset: JsonDataset, tag: number): JsonDataset[] {
  const value = dataset[tagHex(tag)]?.Value;
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject))
    throw new StowResponseError(`${formatTag(tag)} is not a sequence of items`);
  return value as JsonDataset[];
}

function first(dataset: JsonDataset, tag: number): unknown {
  const value = dataset[tagHex(tag)]?.Value;
  return Array.isArray(value) ? value[0] : undefined;
}

function sopOf(item: JsonDataset): string {
  const uid = first(item, Tag.ReferencedSopInstanceUid);
  if (typeof uid !== 'string' || !/^[0-9.]{1,64}$/.test(uid))
    throw new StowResponseError('an item without a valid Referenced SOP Instance UID');
  return uid;
}

function reasonOf(item: JsonDataset, tag: number, fallback: number): number {
  const reason = first(item, tag);
  return typeof reason === 'number' && Number.isInteger(reason) && reason >= 0 && reason <= 0xffff
    ? reason
    : fallback;
}

/** Reads a Store Instances Response in DICOM JSON (PS3.18 Annex F). */
export function parseStoreResponse(text: string): StoreResponse {
  if (text.length > MAX_RESPONSE_CHARS) throw new StowResponseError('response too long');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StowResponseError('the response is not JSON');
  }
  // Some servers wrap the one data set in an array.
  const dataset = Array.isArray(parsed) && parsed.length === 1 ? parsed[0] : parsed;
  if (!isObject(dataset)) throw new StowResponseError('the response is not a DICOM JSON data set');
  const referenced = new Map<string, number>();
  const failed = new Map<string, number>();
  for (const item of items(dataset as JsonDataset, Tag.ReferencedSopSequence))
    referenced.set(sopOf(item), reasonOf(item, Tag.WarningReason, 0));
  for (const item of items(dataset as JsonDataset, Tag.FailedSopSequence))
    failed.set(sopOf(item), reasonOf(item, Tag.FailureReason, 0xc000));
  return { referenced, failed };
}

/** What becomes of one instance of the request. */
export type InstanceVerdict =
  | { readonly kind: 'delivered'; readonly status: number }
  | {
      readonly kind: 'failed';
      readonly status: number | null;
      readonly reason: string;
      /** It was refused for the transfer syntax it went in (0xC122, or 415 when alone). */
      readonly syntaxRefused?: true;
    }
  | { readonly kind: 'retry'; readonly reason: string };

/** What becomes of the request. */
export type StowVerdict =
  /** The destination's trouble (down, overloaded, credentials): back off, nothing charged. */
  | { readonly kind: 'destination'; readonly reason: string }
  /** Refused as a whole with no word per instance: send them one at a time to find which. */
  | { readonly kind: 'isolate'; readonly reason: string }
  | { readonly kind: 'per-instance'; readonly verdicts: ReadonlyMap<string, InstanceVerdict> };

/** Failure Reason "Referenced Transfer Syntax not supported" (PS3.18 §10.5.3, PS3.4 Annex CC). */
export const REFERENCED_TRANSFER_SYNTAX_NOT_SUPPORTED = 0xc122;

function hex(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The forwarder's reading of a STOW-RS answer to the instances `sops`. */
export function judgeStow(
  httpStatus: number,
  body: string,
  sops: readonly string[],
  destination: string,
): StowVerdict {
  const said = `${destination} answered HTTP ${httpStatus}`;
  if (httpStatus === 401 || httpStatus === 403)
    return {
      kind: 'destination',
      reason: `${said}: credentials refused; check the node's auth (user, password or token file)`,
    };
  if (httpStatus >= 500 || httpStatus === 408 || httpStatus === 429)
    return { kind: 'destination', reason: said };
  let response: StoreResponse | undefined;
  try {
    response = body.trim() ? parseStoreResponse(body) : undefined;
  } catch {
    response = undefined;
  }
  const ok = httpStatus >= 200 && httpStatus < 300;
  const saidWhy = `${said}${body ? `: ${body.slice(0, 200)}` : ''}`;
  // 415 Unsupported Media Type to a request of one instance: the form it went in.
  if (httpStatus === 415 && sops.length === 1 && !response)
    return {
      kind: 'per-instance',
      verdicts: new Map([
        [sops[0]!, { kind: 'failed', status: null, reason: saidWhy, syntaxRefused: true }],
      ]),
    };
  if (!ok && httpStatus !== 409 && !response) return { kind: 'isolate', reason: saidWhy };
  const verdicts = new Map<string, InstanceVerdict>();
  for (const sop of sops) {
    const warning = response?.referenced.get(sop);
    const failure = response?.failed.get(sop);
    if (failure !== undefined) {
      const reason = `${destination} refused it: Failure Reason ${hex(failure)}`;
      verdicts.set(
        sop,
        verdictForStatus(failure) === 'transient'
          ? { kind: 'retry', reason }
          : {
              kind: 'failed',
              status: failure,
              reason,
              ...(failure === REFERENCED_TRANSFER_SYNTAX_NOT_SUPPORTED
                ? { syntaxRefused: true as const }
                : {}),
            },
      );
    } else if (warning !== undefined) verdicts.set(sop, { kind: 'delivered', status: warning });
    // 409 Conflict for an instance not listed as failed: the server holds it already.
    else if (ok || httpStatus === 409) verdicts.set(sop, { kind: 'delivered', status: 0 });
    else verdicts.set(sop, { kind: 'failed', status: null, reason: said });
  }
  return { kind: 'per-instance', verdicts };
}
