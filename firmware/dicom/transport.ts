// The transport an association runs over (PS3.8 §9.1.1: the TCP connection, or TLS over
// it, PS3.15 Annex B). The association takes a connected stream and knows nothing of how it
// was opened: a requestor is given a Connector, an acceptor the stream its listener took.
import * as net from 'node:net';

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
