// The box's HTTP face for monitoring: GET /metrics (Prometheus text format), /healthz
// (liveness: the process answers) and /readyz (readiness: listening for DICOM, the index
// takes a write lock, C-STORE not refused for a full disk). Off unless metrics.port is
// set, and on 127.0.0.1 unless metrics.host says otherwise: it has no authentication, so
// it is exposed only where an operator chose to (README, "Monitoring a fleet").
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, type MetricsConfig } from '../config/config';
import { log } from '../log';
import type { StagedChange } from '../config/live-config';

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

interface Listening {
  readonly server: MetricsServer;
  readonly host: string;
  readonly port: number;
}

const UNCHANGED: StagedChange = { commit: () => undefined, rollback: () => undefined };

/**
 * The metrics HTTP server as the configuration wants it: off, or on its address and port.
 * A change is staged like the DICOM port's (ScpServer.prepare): the new listener is opened
 * before the change is accepted, so that an address not of this box or a port in use
 * refuses it with the key named, and the old listener and the file stay as they were.
 */
export class MetricsEndpoint {
  /** The metrics settings in force, whether or not their listener could be opened. */
  private inForce: MetricsConfig = { port: 0, host: '' };
  private running: Listening | null = null;
  private closed = false;
  /** Opening and closing one after another (a change, a rollback, the box stopping). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly source: MetricsSource) {}

  /** At start: monitoring that cannot listen is logged; it does not stop the box from storing. */
  start(wanted: MetricsConfig): Promise<void> {
    return this.serially(async () => {
      this.inForce = wanted;
      if (wanted.port !== 0) this.running = await this.reopen(wanted);
    });
  }

  /** Prepares a configuration's metrics settings; throws ConfigError when they cannot be had. */
  prepare(wanted: MetricsConfig): Promise<StagedChange> {
    return this.serially(async () => {
      // Unchanged settings are not tried again: a listener that failed at start must not
      // refuse a change of something else.
      if (wanted.host === this.inForce.host && wanted.port === this.inForce.port) return UNCHANGED;
      const old = this.running;
      const { fresh, handedOver } =
        wanted.port === 0 ? { fresh: null, handedOver: false } : await this.open(old, wanted);
      const before = this.inForce;
      return {
        commit: () => {
          this.inForce = wanted;
          this.running = fresh;
          if (old && !handedOver) void old.server.close();
          if (this.closed) void fresh?.server.close();
        },
        rollback: () =>
          void this.serially(async () => {
            await fresh?.server.close();
            if (handedOver && !this.closed) this.running = await this.reopen(before);
          }),
      };
    });
  }

  close(): Promise<void> {
    return this.serially(async () => {
      this.closed = true;
      const r = this.running;
      this.running = null;
      await r?.server.close();
    });
  }

  /** Opens the wanted listener beside the old one, or in its place when they overlap. */
  private async open(
    old: Listening | null,
    wanted: MetricsConfig,
  ): Promise<{ fresh: Listening; handedOver: boolean }> {
    try {
      return { fresh: await listening(this.source, wanted), handedOver: false };
    } catch (err) {
      // The same port on an overlapping address (127.0.0.1, then 0.0.0.0): this box holds
      // it, so the old listener hands it over, and takes it back if the new one fails.
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!(old && inUse && old.port === wanted.port)) throw refusal(wanted, err as Error);
    }
    await old.server.close();
    try {
      return { fresh: await listening(this.source, wanted), handedOver: true };
    } catch (err) {
      this.running = await this.reopen(old);
      throw refusal(wanted, err as Error);
    }
  }

  /** Opens a listener where a failure is only logged (the start, taking an old one back). */
  private async reopen(wanted: MetricsConfig): Promise<Listening | null> {
    try {
      return await listening(this.source, wanted);
    } catch (err) {
      log.error('metrics cannot listen', {
        address: `${wanted.host}:${wanted.port}`,
        reason: (err as Error).message,
      });
      return null;
    }
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

async function listening(source: MetricsSource, wanted: MetricsConfig): Promise<Listening> {
  const server = new MetricsServer(source);
  await server.listen(wanted.host, wanted.port);
  return { server, host: wanted.host, port: wanted.port };
}

/** A listener that cannot be opened, with the key an operator would change. */
function refusal(wanted: MetricsConfig, err: Error): ConfigError {
  const code = (err as NodeJS.ErrnoException).code;
  const hostsFault = code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
  return new ConfigError(
    hostsFault ? 'metrics.host' : 'metrics.port',
    `cannot listen on ${wanted.host}:${wanted.port}: ${err.message}`,
  );
}

function within<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ANSWER_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
