// A client of the local control API: one request, one response.
import * as net from 'node:net';
import { controlSocketPath, type ControlRequest, type ControlResponse } from './protocol';

export class ControlError extends Error {
  override name = 'ControlError';
}

export function controlRequest(
  storageDir: string,
  request: ControlRequest,
  timeoutMs = 30_000,
): Promise<unknown> {
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
      if (response.ok) resolve(response.result);
      else reject(new ControlError(response.error));
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
