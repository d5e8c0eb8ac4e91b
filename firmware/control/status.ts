// The box's status for the control API (and so for `dicom-edge status`, the dashboard and
// the serial console): who it is, where it listens, what it is doing, how full it is.
import type * as net from 'node:net';
import * as os from 'node:os';
import type { Config } from '../config/config';
import type { DestinationReport, Forwarder } from '../forward/forwarder';
import { onLogLine } from '../log';
import { diskUse } from '../../storage/disk-use';
import type { Archive } from '../../storage/archive';
import type { AssociationActivity, ScpServer } from '../scp-server';
import type { Health, HealthMonitor } from './health';
import { certificateFacts, type CertificateFacts } from '../tls/tls-options';
import type { Worklist, WorklistStatus } from '../worklist/worklist';

export interface BoxStatus {
  readonly ae: string;
  readonly port: number;
  /** The DICOM TLS listener's port, or null when there is none. */
  readonly tlsPort: number | null;
  /** The listening address ("0.0.0.0" = every interface). */
  readonly host: string;
  readonly version: string;
  readonly addresses: string[];
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly associations: number;
  readonly activeAssociations: AssociationActivity[];
  readonly throughput: ThroughputHistory;
  readonly health: Health;
  readonly today: { instances: number; bytes: number };
  readonly cache: {
    instances: number;
    studies: number;
    /** The disk as the service's user sees it (storage/disk-use.ts): used is total less free. */
    diskTotalBytes: number;
    diskFreeBytes: number;
    /** Disk use (percent) from which the status and the dashboard flag the cache as nearly full. */
    warnPercent: number;
    /** The watermarks of eviction (percent of the disk). */
    evictAbovePercent: number;
    evictToPercent: number;
    /** Bytes of studies that may not be evicted yet (undelivered, committing, protected). */
    pinnedBytes: number;
    evictedStudies: number;
    evictedBytes: number;
    /** Why C-STORE is refused now, or null. */
    refusing: string | null;
  };
  readonly destinations: DestinationReport[];
  /** The worklist copy and its source; null when no node is the worklist source. */
  readonly worklist: WorklistStatus | null;
  /** The TLS certificates in use: the listener's and those the box shows nodes. */
  readonly certificates: CertificateStatus[];
  readonly recentEvents: string[];
}

/** A certificate the box presents, as the status shows it (never the key). */
export interface CertificateStatus {
  /** "TLS listener", or "node NAME". */
  readonly use: string;
  readonly file: string;
  readonly subject: string | null;
  readonly expires: string | null;
  readonly daysLeft: number | null;
  /** Expired, expiring within 30 days, or unreadable; null when fine. */
  readonly warning: string | null;
}

/** Certificates expiring within this many days are warned of. */
export const CERTIFICATE_WARNING_DAYS = 30;

interface CertificateRead {
  readonly use: string;
  readonly file: string;
  readonly facts: CertificateFacts | Error;
}

/**
 * The certificates of each configuration, read once: again when the configuration changes
 * (when the TLS listener rereads them too), not at every status request — a dashboard asks
 * every second and a scrape every few.
 */
const certificatesRead = new WeakMap<Config, CertificateRead[]>();

function read(use: string, file: string): CertificateRead {
  try {
    return { use, file, facts: certificateFacts(file) };
  } catch (err) {
    return { use, file, facts: err as Error };
  }
}

function certificateStatus({ use, file, facts }: CertificateRead, now: number): CertificateStatus {
  if (facts instanceof Error)
    return {
      use,
      file,
      subject: null,
      expires: null,
      daysLeft: null,
      warning: `unreadable: ${facts.message}`,
    };
  const daysLeft = Math.floor((Date.parse(facts.expires) - now) / 86_400_000);
  return {
    use,
    file,
    subject: facts.subject,
    expires: facts.expires,
    daysLeft,
    warning:
      daysLeft < 0
        ? 'EXPIRED'
        : daysLeft < CERTIFICATE_WARNING_DAYS
          ? `expires in ${daysLeft} days`
          : null,
  };
}

/** The certificates the configuration names for the box to present, as of now. */
export function certificatesOf(config: Config, now = Date.now()): CertificateStatus[] {
  let reads = certificatesRead.get(config);
  if (!reads) {
    reads = [
      ...(config.tls ? [read('TLS listener', config.tls.certificate)] : []),
      ...config.nodes.flatMap((n) =>
        n.tls?.certificate ? [read(`node ${n.name}`, n.tls.certificate)] : [],
      ),
    ];
    certificatesRead.set(config, reads);
  }
  return reads.map((r) => certificateStatus(r, now));
}

export interface ThroughputHistory {
  readonly intervalSeconds: number;
  /** Bytes received on the DICOM port per interval, oldest first. */
  readonly bytes: number[];
}

/** Samples a growing byte count every interval; keeps the last `capacity` differences. */
export class ThroughputMeter {
  private readonly samples: number[] = [];
  private last: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly total: () => number,
    private readonly intervalSeconds = 10,
    private readonly capacity = 90,
  ) {
    this.last = total();
    this.timer = setInterval(() => this.sample(), intervalSeconds * 1000);
    this.timer.unref();
  }

  private sample(): void {
    const now = this.total();
    this.samples.push(Math.max(0, now - this.last));
    this.last = now;
    if (this.samples.length > this.capacity) this.samples.shift();
  }

  history(): ThroughputHistory {
    return { intervalSeconds: this.intervalSeconds, bytes: [...this.samples] };
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** The last log lines, kept for the status (a bounded ring). */
export class RecentEvents {
  private readonly lines: string[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly capacity = 50) {
    this.unsubscribe = onLogLine((line, level) => {
      if (level === 'debug') return;
      this.lines.push(line);
      if (this.lines.length > this.capacity) this.lines.shift();
    });
  }

  list(): string[] {
    return [...this.lines];
  }

  close(): void {
    this.unsubscribe();
  }
}

function addresses(): string[] {
  return (
    Object.values(os.networkInterfaces())
      .flat()
      // A link-local IPv6 address cannot be typed into a modality's settings: left out.
      .filter(
        (i): i is os.NetworkInterfaceInfo =>
          i !== undefined && !i.internal && !i.address.startsWith('fe80:'),
      )
      .map((i) => i.address)
  );
}

/** The status without the machine's health: what the metrics read at each scrape. */
export type CoreStatus = Omit<BoxStatus, 'health'>;

export interface StatusSources {
  config: Config;
  archive: Archive;
  forwarder: Forwarder;
  server: ScpServer;
  /** Where the DICOM TLS listener listens, or null. */
  tlsAddress: () => net.AddressInfo | null;
  throughput: ThroughputMeter;
  health: HealthMonitor;
  startedAt: Date;
  events: RecentEvents;
  version: string;
  worklist: Pick<Worklist, 'status'>;
}

export async function collectStatus(deps: StatusSources): Promise<BoxStatus> {
  const [core, health] = await Promise.all([collectCoreStatus(deps), deps.health.current()]);
  return { ...core, health };
}

/**
 * The status but the health reading, which loads systeminformation and may start helper
 * processes: a dashboard asks for it, a scrape every few seconds does not need it.
 */
export async function collectCoreStatus(deps: StatusSources): Promise<CoreStatus> {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const [today, counts, usage, disk, destinations, worklist] = await Promise.all([
    deps.archive.receivedSince(midnight.toISOString()),
    deps.archive.counts(),
    deps.archive.usage(),
    diskUse(deps.config.storageDir),
    deps.forwarder.report(),
    deps.worklist.status(),
  ]);
  return {
    ae: deps.config.ae,
    port: deps.server.address.port,
    tlsPort: deps.tlsAddress()?.port ?? null,
    host: deps.config.host,
    version: deps.version,
    addresses: addresses(),
    startedAt: deps.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
    associations: deps.server.associationCount,
    activeAssociations: deps.server.activities(),
    throughput: deps.throughput.history(),
    today,
    cache: {
      instances: counts.instances,
      studies: counts.studies,
      diskTotalBytes: disk.totalBytes,
      diskFreeBytes: disk.freeBytes,
      warnPercent: deps.config.cacheWarnPercent,
      evictAbovePercent: deps.config.cache.evictAbovePercent,
      evictToPercent: deps.config.cache.evictToPercent,
      pinnedBytes: usage.pinnedBytes,
      evictedStudies: deps.archive.evicted.studies,
      evictedBytes: deps.archive.evicted.bytes,
      refusing: deps.archive.refusing,
    },
    destinations,
    worklist,
    certificates: certificatesOf(deps.config),
    recentEvents: deps.events.list(),
  };
}
