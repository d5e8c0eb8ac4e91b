// The box's HTTP face for monitoring: GET /metrics (Prometheus text format), /healthz
// (liveness: the process answers) and /readyz (readiness: listening for DICOM, the index
// takes a write lock, C-STORE not refused for a full disk). Off unless metrics.port is
// set, and on 127.0.0.1 unless metrics.host says otherwise: it has no authentication, so
// it is exposed only where an operator chose to (README, "Monitoring a fleet").
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { log } from '../log';

export interface Readiness {
  readonly ready: boolean;
  /** What is not ready, one line each (empty when ready). */
  readonly problems: readonly string[];
}

export interface MetricsSource {
  /** The exposition, freshly read. */
  metrics(): Promise<{ body: string; contentType: string }>;
  readiness(): Promise<Readiness>;
}

/** A scrape or a readiness check that takes longer than this is answered 503. */
const ANSWER_TIMEOUT_MS = 10_000;

export class MetricsServer {
  private readonly server: http.Server;

  constructor(private readonly source: MetricsSource) {
    this.server = http.createServer((req, res) => void this.serve(req, res));
    // A scraper keeps its connection; an idle one is closed after a while.
    this.server.keepAliveTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        log.info('metrics listening', { address: `${address.address}:${address.port}` });
        resolve(address);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      reply(405, 'only GET and HEAD\n');
      return;
    }
    try {
      switch (url) {
        case '/metrics': {
          const { body, contentType } = await within(this.source.metrics());
          reply(200, body, contentType);
          return;
        }
        case '/healthz':
          reply(200, 'ok\n');
          return;
        case '/readyz': {
          const r = await within(this.source.readiness());
          reply(
            r.ready ? 200 : 503,
            r.ready ? 'ready\n' : r.problems.map((p) => `${p}\n`).join(''),
          );
          return;
        }
        default:
          reply(404, 'not found: try /metrics, /healthz or /readyz\n');
      }
    } catch (err) {
      log.warn('metrics request failed', { path: url, reason: (err as Error).message });
      reply(503, `${(err as Error).message}\n`);
    }
  }
}

function within<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ANSWER_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
