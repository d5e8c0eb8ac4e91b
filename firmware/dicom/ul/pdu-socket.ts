// The transport connection as the upper layer sees it (PS3.8 §9.1.1): whole PDUs in,
// encoded PDUs out. The only code that touches a net.Socket or tls.TLSSocket: the reader of
// PDUs (pdu-reader.ts), corked writes, drain, flow control and a graceful close.
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { PduDecodeError } from '../errors';
import { decodePdu, type Pdu } from '../pdu';
import { PduReader } from '../pdu-reader';

export type PduSocketEvents = {
  pdu: [pdu: Pdu];
  /** A PDU that does not decode (Evt19); nothing more is read. */
  invalid: [error: PduDecodeError];
  /** The connection failed (reset, TLS error); 'closed' follows. */
  error: [error: Error];
  /** Transport connection closed indication (Evt17). */
  closed: [];
};

/** How long a closing connection waits for its last PDU to leave before it is dropped. */
const CLOSE_GRACE_MS = 1000;

export class PduSocket extends EventEmitter<PduSocketEvents> {
  private readonly reader: PduReader;
  private reading = true;
  private isClosed = false;
  /** "address:port" of the peer, captured while open: Node forgets it once closed. */
  readonly remote: string;
  readonly peer: { readonly address: string; readonly port: number };

  constructor(
    private readonly socket: net.Socket,
    limits: { maxPDataLength: number; maxOtherLength: number },
  ) {
    super();
    this.reader = new PduReader(limits);
    const address = socket.remoteAddress ?? '';
    this.peer = { address, port: socket.remotePort ?? 0 };
    this.remote = address ? `${address.replace(/^::ffff:/, '')}:${socket.remotePort}` : '?';
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.emit('error', err));
    socket.on('close', () => {
      this.isClosed = true;
      this.emit('closed');
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** True when the socket's buffer is over its mark: the writer should wait for drained(). */
  get needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Sends an encoded PDU, unless the connection is already closed. */
  send(...parts: Buffer[]): void {
    if (this.isClosed || !this.socket.writable) return;
    if (parts.length === 1) {
      this.socket.write(parts[0]);
      return;
    }
    // A header and its data leave in one writev, the data uncopied.
    this.corked(() => {
      for (const p of parts) this.socket.write(p);
    });
  }

  /** Runs `write` with the socket corked, so that what it sends leaves in one writev. */
  corked<T>(write: () => T): T {
    this.socket.cork();
    try {
      return write();
    } finally {
      this.socket.uncork();
    }
  }

  /** Resolves when the write buffer has drained, or the connection closed. */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.off('closed', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.on('closed', done);
    });
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (this.reading) this.socket.resume();
  }

  /** Nothing more is read: what the peer sends after this is dropped. */
  stopReading(): void {
    this.reading = false;
  }

  /** Closes gracefully: our last PDU may leave before the FIN, then the socket goes. */
  close(): void {
    if (this.isClosed) return;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Drops the connection at once (a connection opened for an association that ended). */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (!this.reading) return;
    this.reader.push(chunk);
    while (this.reading) {
      let pdu: Pdu;
      try {
        const raw = this.reader.next();
        if (!raw) return;
        pdu = decodePdu(raw.type, raw.body);
      } catch (err) {
        this.stopReading();
        this.emit('invalid', err instanceof PduDecodeError ? err : new PduDecodeError(String(err)));
        return;
      }
      this.emit('pdu', pdu);
    }
  }
}
