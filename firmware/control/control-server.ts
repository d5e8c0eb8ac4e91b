// The local control API: a Unix domain socket under the storage directory, owner-only
// (0600), so only the box's own user (and root) can drive it. The CLI's `queue`, and
// later the dashboard and serial console, are its clients; none reads SQLite directly.
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { log } from '../log';
import { ControlError } from './control-client';
import {
  controlSocketPath,
  MAX_REQUEST_BYTES,
  type ControlRequest,
  type ControlResponse,
} from './protocol';

export type ControlHandler = (request: ControlRequest) => unknown;

const STARTING: ReadonlyMap<string, ControlHandler> = new Map([
  ['status', () => ({ starting: true })],
]);

export class ControlServer {
  private readonly server: net.Server;
  readonly path: string;

  constructor(
    storageDir: string,
    private handlers: ReadonlyMap<string, ControlHandler> = STARTING,
  ) {
    this.path = controlSocketPath(storageDir);
    this.server = net.createServer((socket) => this.serve(socket));
  }

  /**
   * The commands served from now on. The socket is taken first, as the lock that keeps a
   * second box (or a reindex) off this storage directory, before the box has anything to
   * answer with; until then `status` says it is starting.
   */
  use(handlers: ReadonlyMap<string, ControlHandler>): void {
    this.handlers = handlers;
  }

  async listen(): Promise<void> {
    // A socket file left by a crash is removed; one that answers belongs to a box still
    // running on this storage directory, and two boxes on one cache must never run.
    await fs.mkdir(path.dirname(this.path), { recursive: true });
    if (await answers(this.path))
      throw new ControlError(
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
        void this.reply(socket, { ok: false, error: 'request too long' }).then(() => socket.end());
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
    let request: ControlRequest;
    try {
      const parsed: unknown = JSON.parse(line);
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        typeof (parsed as ControlRequest).command !== 'string'
      ) {
        return { ok: false, error: 'a request is a JSON object with a "command"' };
      }
      request = parsed as ControlRequest;
    } catch {
      return { ok: false, error: 'a request is one line of JSON' };
    }
    const handler = this.handlers.get(request.command);
    if (!handler) return { ok: false, error: `unknown command "${request.command}"` };
    try {
      return { ok: true, result: await handler(request) };
    } catch (err) {
      log.warn('control request failed', {
        command: request.command,
        reason: (err as Error).message,
      });
      return { ok: false, error: (err as Error).message };
    }
  }

  private reply(socket: net.Socket, response: ControlResponse): Promise<void> {
    return new Promise((resolve) => {
      if (!socket.writable) return resolve();
      socket.write(`${JSON.stringify(response)}\n`, () => resolve());
    });
  }
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
