// The transport an association runs over (PS3.8 §9.1.1: the TCP connection, or TLS over
// it, PS3.15 Annex B). The association takes a connected stream and knows nothing of how it
// was opened: a requestor is given a Connector, an acceptor the stream its listener took.
import * as net from 'node:net';
import * as tls from 'node:tls';

/** Opens the transport connection; resolves once it is connected (and, for TLS, secured). */
export type Connector = () => Promise<net.Socket>;

/** A plain TCP connection to host:port. */
export function tcpConnector(host: string, port: number): Connector {
  return () =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const fail = (err: Error): void => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        resolve(socket);
      });
    });
}

/**
 * TLS did not secure the connection (PS3.15 Annex B): the handshake failed, or the peer is
 * not the one required. The TLS layer's own error, with its code, is the cause.
 */
export class TlsConnectError extends Error {
  override name = 'TlsConnectError';
  constructor(cause: Error) {
    super(`TLS: ${cause.message}`, { cause });
  }
}

/**
 * TLS to host:port (PS3.15 Annex B). `setup` gives the options (read when connecting, so a
 * replaced certificate is used by the next association) and a last check of the peer.
 */
export function tlsConnector(
  host: string,
  port: number,
  setup: () => {
    options: tls.ConnectionOptions;
    check: (socket: tls.TLSSocket) => Error | undefined;
  },
): Connector {
  return () =>
    new Promise((resolve, reject) => {
      let s: ReturnType<typeof setup>;
      try {
        s = setup();
      } catch (err) {
        reject(new Error(`TLS set-up: ${(err as Error).message}`));
        return;
      }
      const socket = tls.connect({ ...s.options, host, port });
      const fail = (err: Error): void => {
        socket.destroy();
        reject(new TlsConnectError(err));
      };
      socket.once('error', fail);
      socket.once('secureConnect', () => {
        socket.off('error', fail);
        const problem = s.check(socket);
        if (problem) fail(problem);
        else resolve(socket);
      });
    });
}
