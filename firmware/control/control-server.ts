// The local control API: a Unix domain socket under the storage directory, owner-only
// (0600), so only the box's own user (and root) can drive it. The CLI's `queue`, and
// later the dashboard and serial console, are its clients; none reads SQLite directly.
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ConfigError, UnknownNodeError } from '../config/config';
import { log } from '../log';
import {
  ControlCommandError,
  parseRequest,
  type AnyRequest,
  type ControlFailure,
  type ControlHandlers,
} from './commands';
import { StorageInUseError } from './control-client';
import { controlSocketPath, MAX_REQUEST_BYTES, type ControlResponse } from './protocol';

/** While the box starts: `status` says so, every other command waits for the box. */
const STARTING: Partial<ControlHandlers> = { status: () => ({ starting: true }) };

export class ControlServer {
  private readonly server: net.Server;
  readonly path: string;

  constructor(
    storageDir: string,
    private handlers: Partial<ControlHandlers> = STARTING,
  ) {
    this.path = controlSocketPath(storageDir);
    this.server = net.createServer((socket) => this.serve(socket));
  }

  /**
   * The commands served from now on. The socket is taken first, as the lock that keeps a
   * second box (or a reindex) off this storage directory, before the box has anything to
   * answer with; until then `status` says it is starting.
   */
  use(handlers: ControlHandlers): void {
    this.handlers = handlers;
  }

  async listen(): Promise<void> {
    // A socket file left by a crash is removed; one that answers belongs to a box still
    // running on this storage directory, and two boxes on one cache must never run.
    await fs.mkdir(path.dirname(this.path), { recursive: true });
    if (await answers(this.path))
      throw new StorageInUseError(
        `another dicom-edge is running on this storage directory (${this.path})`,
      );
    await fs.rm(this.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => resolve());
    });
    await fs.chmod(this.path, 0o600);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await fs.rm(this.path, { force: true });
  }

  private serve(socket: net.Socket): void {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES) {
        void this.reply(socket, {
          ok: false,
          error: { kind: 'bad-request', message: 'request too long' },
        }).then(() => socket.end());
        return;
      }
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        void this.handle(line).then((response) => this.reply(socket, response));
      }
    });
  }

  private async handle(line: string): Promise<ControlResponse> {
    let request: AnyRequest;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new ControlCommandError('bad-request', 'a request is one line of JSON');
      }
      request = parseRequest(parsed);
    } catch (err) {
      return { ok: false, error: failure(err) };
    }
    const handler = this.handlers[request.command] as ((r: AnyRequest) => unknown) | undefined;
    if (!handler)
      return { ok: false, error: { kind: 'failed', message: 'the box is still starting' } };
    try {
      return { ok: true, result: await handler(request) };
    } catch (err) {
      const error = failure(err);
      // A request refused (a mistyped name, a setting out of range) is the caller's to
      // hear, not an event of the box: only a command that ran and failed is a warning.
      if (error.kind === 'failed')
        log.warn('control request failed', { command: request.command, reason: error.message });
      else
        log.debug('control request refused', { command: request.command, reason: error.message });
      return { ok: false, error };
    }
  }

  private reply(socket: net.Socket, response: ControlResponse): Promise<void> {
    return new Promise((resolve) => {
      if (!socket.writable) return resolve();
      socket.write(`${JSON.stringify(response)}\n`, () => resolve());
    });
  }
}

/** What crosses the socket of an error: its kind, its message, the configuration key. */
function failure(err: unknown): ControlFailure {
  if (err instanceof ControlCommandError)
    return { kind: err.kind, message: err.message, ...(err.key ? { key: err.key } : {}) };
  if (err instanceof ConfigError) return { kind: 'config', message: err.message, key: err.key };
  if (err instanceof UnknownNodeError) return { kind: 'not-found', message: err.message };
  return { kind: 'failed', message: (err as Error).message };
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
