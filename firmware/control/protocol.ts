// The local control API's wire format: one JSON object per line each way. Request
// {"command": "...", ...args} (commands.ts lists them); response {"ok": true, "result": ...}
// or {"ok": false, "error": {"kind": "...", "message": "...", "key"?: "..."}}.
import * as path from 'node:path';
import type { ControlFailure } from './commands';

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: ControlFailure };

/** Where a box with this storage directory listens for control clients. */
export function controlSocketPath(storageDir: string): string {
  return path.join(storageDir, 'control.sock');
}

/** A request line is small; anything longer is not a control request. */
export const MAX_REQUEST_BYTES = 64 * 1024;
