// HTTP(S) to a DICOMweb service, with undici (the client Node's own fetch is built on):
// a keep-alive pool per node, the node's TLS (its CA, a client certificate for mutual
// TLS, a pinned fingerprint, the BCP 195 profile), its credentials read from their file at
// each request (a token refreshed by another program is picked up), and timeouts that
// count silence, not size: a large batch may take minutes, a stalled one may not.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { buildConnector, Pool } from 'undici';
import type { DicomwebAuth, DicomwebNodeConfig } from '../config/config';
import { connectionOptions } from '../tls/tls-options';
import { multipartBody, multipartContentType, newBoundary } from './multipart';
import { MAX_RESPONSE_CHARS } from './stow-response';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

async function authorization(auth: DicomwebAuth | undefined): Promise<Record<string, string>> {
  if (!auth) return {};
  if (auth.type === 'bearer') {
    const token = (await readFile(auth.tokenFile, 'utf8')).trim();
    return { authorization: `Bearer ${token}` };
  }
  const password = (await readFile(auth.passwordFile, 'utf8')).replace(/\r?\n$/, '');
  return {
    authorization: `Basic ${Buffer.from(`${auth.user}:${password}`).toString('base64')}`,
  };
}

export class DicomwebClient {
  private readonly pool: Pool;
  private readonly base: URL;

  constructor(private readonly node: DicomwebNodeConfig) {
    this.base = new URL(node.url);
    const silenceMs = node.timeoutSeconds * 1000;
    const tls =
      this.base.protocol === 'https:'
        ? connectionOptions(this.base.hostname, node.tls ?? { profile: 'bcp195-nd' })
        : undefined;
    const connect = buildConnector({ ...(tls?.options ?? {}), timeout: silenceMs });
    this.pool = new Pool(this.base.origin, {
      connections: 1,
      headersTimeout: silenceMs,
      bodyTimeout: silenceMs,
      keepAliveTimeout: 30_000,
      // A pinned certificate is checked once the handshake is done, as for DIMSE.
      connect: (options, callback) =>
        connect(options, (err, socket) => {
          const wrong = !err && tls ? tls.check(socket as TLSSocket) : undefined;
          if (wrong) {
            socket?.destroy();
            callback(wrong, null);
          } else if (err) callback(err, null);
          else callback(null, socket!);
        }),
    });
  }

  private path(suffix: string): string {
    return `${this.base.pathname.replace(/\/+$/, '')}${suffix}`;
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: Readable,
  ): Promise<HttpAnswer> {
    const response = await this.pool.request({
      method,
      path,
      headers: {
        ...this.node.headers,
        ...(await authorization(this.node.auth)),
        ...headers,
      },
      ...(body ? { body } : {}),
    });
    // Read to the end (the connection is reused), kept up to the limit, decoded once: a
    // character cut between two chunks stays whole.
    const kept: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of response.body) {
      const b = chunk as Buffer;
      if (bytes < MAX_RESPONSE_CHARS) kept.push(b.subarray(0, MAX_RESPONSE_CHARS - bytes));
      bytes += b.length;
    }
    return { status: response.statusCode, body: Buffer.concat(kept).toString('utf8') };
  }

  /** STOW-RS: the parts (Part 10 files, each a stream of its bytes) in one request. */
  store(
    parts: Iterable<() => AsyncIterable<Buffer>>,
    through: (data: AsyncIterable<Buffer>) => AsyncIterable<Buffer> = (d) => d,
  ): Promise<HttpAnswer> {
    const boundary = newBoundary(() => randomBytes(16));
    // No Content-Length: undici sends it chunked, as it is read.
    const body = Readable.from(through(multipartBody(boundary, parts)), { objectMode: false });
    return this.send(
      'POST',
      this.path('/studies'),
      {
        'content-type': multipartContentType(boundary),
        accept: 'application/dicom+json',
      },
      body,
    );
  }

  /** One QIDO-RS query for a study: does the service answer, and how. */
  query(): Promise<HttpAnswer> {
    return this.send('GET', this.path('/studies?limit=1'), { accept: 'application/dicom+json' });
  }

  /** Closes the pool (waits for a request in flight), or at once (destroy). Final. */
  async close(abort = false): Promise<void> {
    await (abort ? this.pool.destroy() : this.pool.close()).catch(() => undefined);
  }
}

/** Whether a query's HTTP status says the service works for us: found, and our credentials taken. */
export function queryWorks(status: number): boolean {
  return status >= 200 && status < 300;
}

/**
 * The HTTP status of one QIDO-RS query on a connection of its own (the health check of
 * the console's and dashboard's echo, the forwarder's "does it still answer" and its
 * probe of a destination that backs off).
 * Throws when the service cannot be reached.
 */
export async function queryOnce(node: DicomwebNodeConfig): Promise<number> {
  const client = new DicomwebClient(node);
  try {
    return (await client.query()).status;
  } finally {
    await client.close(true);
  }
}
