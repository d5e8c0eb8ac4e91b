// A client of the local control API: one request, one typed response (commands.ts).
import * as net from 'node:net';
import { ControlCommandError, type CommandName, type RequestOf, type ResultOf } from './commands';
import { controlSocketPath, type ControlResponse } from './protocol';

/** The box cannot be reached (not running, not answering). */
export class ControlError extends Error {
  override name = 'ControlError';
}

/** Another box (or a reindex) holds this storage directory's control socket. */
export class StorageInUseError extends ControlError {
  override name = 'StorageInUseError';
}

/** Sends one request; resolves with its result, rejects with ControlCommandError or ControlError. */
export function controlRequest<C extends CommandName>(
  storageDir: string,
  request: RequestOf<C>,
  timeoutMs = 30_000,
): Promise<ResultOf<C>> {
  const socketPath = controlSocketPath(storageDir);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffered = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ControlError(`no answer from the box on ${socketPath}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      const response = JSON.parse(buffered.slice(0, nl)) as ControlResponse;
      if (response.ok) resolve(response.result as ResultOf<C>);
      else {
        const { kind, message, key } = response.error;
        reject(new ControlCommandError(kind, message, key));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new ControlError(
          err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
            ? `no box is running with storage directory ${storageDir} (${socketPath})`
            : err.message,
        ),
      );
    });
  });
}

/** A function that sends requests to a box (the console and the dashboard are given one). */
export type ControlCall = <C extends CommandName>(request: RequestOf<C>) => Promise<ResultOf<C>>;
