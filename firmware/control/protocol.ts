// The local control API's wire format: one JSON object per line each way.
// Request {"command": "...", ...args}; response {"ok": true, "result": ...} or {"ok": false, "error": "..."}.
import * as path from 'node:path';

export interface ControlRequest {
  readonly command: string;
  readonly [arg: string]: unknown;
}

export type ControlResponse =
  { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string };

/** Where a box with this storage directory listens for control clients. */
export function controlSocketPath(storageDir: string): string {
  return path.join(storageDir, 'control.sock');
}

/** A request line is small; anything longer is not a control request. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** `retry`: requeue failed forward jobs; all given filters must match. */
export interface RetryRequest {
  readonly command: 'retry';
  readonly destination?: string;
  readonly sopInstanceUid?: string;
  readonly studyInstanceUid?: string;
}

/** What `retry` requeued: how many, and the first of them. */
export interface RetryResult {
  readonly count: number;
  readonly jobs: ReadonlyArray<{ readonly sopInstanceUid: string; readonly destination: string }>;
}

/** At most this many requeued jobs are named in a RetryResult. */
export const RETRY_LISTED = 20;
