// The DICOM TLS listener (PS3.15 Annex B) beside the plain one: each connection whose
// handshake succeeds is handed to the same acceptor as a plain connection (ScpServer).
// A handshake that fails — a plain-TCP peer, an untrusted, expired or missing client
// certificate, a truncated handshake — is one log line naming the peer; the box serves on.
// A configuration change or a reload rebinds the port, or only replaces the certificates
// (read from their files again) for the associations that come after, when their files'
// contents or the settings differ from those in use.
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ConfigError } from '../config/config';
import type { StagedChange } from '../config/live-config';
import { log } from '../log';
import type { TlsListenerConfig } from '../config/tls-config';
import { listenerOptions } from './tls-options';

/** A client that has not finished its handshake after this long is closed. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** OpenSSL's reason without its error-queue prefix and source location. */
export function tlsReason(err: Error): string {
  const m = /SSL routines:[^:]*:([^:]+)/.exec(err.message);
  return (m?.[1] ?? err.message).trim();
}

/** "address:port" of the peer of a TCP connection. */
function addressOf(socket: net.Socket): string | undefined {
  return socket.remoteAddress
    ? `${socket.remoteAddress.replace(/^::ffff:/, '')}:${socket.remotePort ?? '?'}`
    : undefined;
}

export class TlsListener {
  private server: tls.Server | null = null;
  private current: { host: string; config: TlsListenerConfig; loaded: string } | null = null;
  /**
   * Connections still in their handshake, with their peer's address taken when they came:
   * a peer that hangs up mid-handshake can no longer be asked. Closed when the box stops.
   */
  private readonly handshaking = new Map<net.Socket, string>();

  constructor(private readonly accept: (socket: net.Socket) => void) {}

  /** Where it listens, or null when it does not. */
  get address(): net.AddressInfo | null {
    return (this.server?.address() as net.AddressInfo | null) ?? null;
  }

  /**
   * A configuration change: refused (ConfigError) when its certificates cannot be read;
   * applied on commit. A port that cannot be bound then is logged, and the box serves on.
   * Certificate files replaced under the same names are named as a change of their own.
   */
  prepare(host: string, config: TlsListenerConfig | undefined): StagedChange {
    const options = config ? contextOptions(config) : undefined;
    const was = this.current;
    const renewed =
      config !== undefined &&
      options !== undefined &&
      was !== null &&
      JSON.stringify(was.config) === JSON.stringify(config) &&
      was.loaded !== loadedKey(config, options);
    return {
      commit: () =>
        void this.apply(host, config, options).catch((err: Error) =>
          log.error('TLS listener not changed', { reason: err.message }),
        ),
      rollback: () => undefined,
      changed: renewed ? ['tls certificates'] : [],
    };
  }

  /**
   * Listens as `config` says (or stops, without one), with the files read into `options`
   * (read now when not given). Throws ConfigError when it cannot.
   */
  async apply(
    host: string,
    config: TlsListenerConfig | undefined,
    options = config ? contextOptions(config) : undefined,
  ): Promise<void> {
    const was = this.current;
    if (!config || !options) {
      await this.close();
      return;
    }
    const loaded = loadedKey(config, options);
    if (this.server && was && was.host === host && was.config.port === config.port) {
      if (was.loaded === loaded) return; // the same files and settings: nothing to swap
      // Same address: the associations to come get the new certificates and settings.
      this.server.setSecureContext(options);
      this.current = { host, config, loaded };
      log.info('TLS certificates reloaded', { port: config.port });
      return;
    }
    // Client certificates are always asked for, and judged here (secureConnection): a
    // refusal then names the peer and the reason, which OpenSSL's own refusal would not.
    const server = tls.createServer({
      ...options,
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    // Before the TLS socket wraps it (this listener runs first): the TCP connection's peer.
    server.prependListener('connection', (raw: net.Socket) => {
      this.handshaking.set(raw, addressOf(raw) ?? '?');
      // Forgotten a turn after it closes: a refusal for it is logged on that close.
      raw.once('close', () => setImmediate(() => this.handshaking.delete(raw)));
    });
    server.on('secureConnection', (socket) => this.admit(socket));
    server.on('tlsClientError', (err, socket) =>
      log.warn('TLS handshake refused', { peer: this.peerOf(socket), reason: tlsReason(err) }),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      throw new ConfigError('tls.port', `cannot listen on ${host}:${config.port}: ${err.message}`);
    });
    await this.close();
    this.server = server;
    this.current = { host, config, loaded };
    log.info('listening for TLS', {
      address: `${host}:${config.port}`,
      profile: config.profile,
      clientCertificates: config.clientCertificates,
    });
  }

  /**
   * Stops accepting, and closes the connections still in their handshake; associations
   * already accepted go on (the plain listener's stop ends them).
   */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.current = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const raw of this.handshaking.keys()) raw.destroy();
    this.handshaking.clear();
    // Accepted connections keep the server's count up until their associations end.
    await Promise.race([closed, new Promise((r) => setTimeout(r, 100).unref())]);
  }

  /** The peer of a TLS connection: the TLS socket's, or the one noted when it came. */
  private peerOf(socket: tls.TLSSocket): string {
    const raw = (socket as tls.TLSSocket & { _parent?: net.Socket })._parent;
    return addressOf(socket) ?? (raw ? this.handshaking.get(raw) : undefined) ?? '?';
  }

  /**
   * A secured connection: its client certificate must chain to the trusted CAs when
   * certificates are required, and when one is presented at all.
   */
  private admit(socket: tls.TLSSocket): void {
    const raw = (socket as tls.TLSSocket & { _parent?: net.Socket })._parent;
    if (raw) this.handshaking.delete(raw);
    const required = this.current?.config.clientCertificates !== 'optional';
    const presented = Object.keys(socket.getPeerCertificate()).length > 0;
    if (!socket.authorized && (required || presented)) {
      log.warn('TLS handshake refused', {
        peer: this.peerOf(socket),
        reason: presented
          ? `client certificate not trusted: ${String(socket.authorizationError)}`
          : 'no client certificate',
      });
      socket.destroy();
      return;
    }
    this.accept(socket);
  }
}

function contextOptions(config: TlsListenerConfig): tls.SecureContextOptions {
  try {
    const options = listenerOptions(config);
    tls.createSecureContext(options); // a key that does not match its certificate fails here
    return options;
  } catch (err) {
    throw new ConfigError('tls', `cannot use the certificates: ${(err as Error).message}`);
  }
}

/** The settings and the bytes of the files a secure context was made of, as one key. */
function loadedKey(config: TlsListenerConfig, options: tls.SecureContextOptions): string {
  const digest = (part: unknown): string =>
    Buffer.isBuffer(part) ? createHash('sha256').update(part).digest('hex') : '-';
  return [
    JSON.stringify(config),
    digest(options.cert),
    digest(options.key),
    digest(options.ca),
  ].join(' ');
}
