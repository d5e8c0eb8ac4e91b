// The box's status for the control API (and so for `dicom-edge status`, the dashboard and
// the serial console): who it is, where it listens, what it is doing, how full it is.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import type { Config } from '../config/config';
import type { DestinationReport, Forwarder } from '../forward/forwarder';
import { onLogLine } from '../log';
import type { Index } from '../../storage/index';

export interface BoxStatus {
  readonly ae: string;
  readonly port: number;
  readonly version: string;
  readonly addresses: string[];
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly associations: number;
  readonly today: { instances: number; bytes: number };
  readonly cache: {
    instances: number;
    studies: number;
    diskTotalBytes: number;
    diskFreeBytes: number;
  };
  readonly destinations: DestinationReport[];
  readonly recentEvents: string[];
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
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => i !== undefined && !i.internal)
    .map((i) => i.address);
}

export async function collectStatus(deps: {
  config: Config;
  index: Index;
  forwarder: Forwarder;
  associations: () => number;
  startedAt: Date;
  events: RecentEvents;
  version: string;
}): Promise<BoxStatus> {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const [today, counts, disk, destinations] = await Promise.all([
    deps.index.receivedSince(midnight.toISOString()),
    deps.index.counts(),
    fs.statfs(deps.config.storageDir),
    deps.forwarder.report(),
  ]);
  return {
    ae: deps.config.ae,
    port: deps.config.port,
    version: deps.version,
    addresses: addresses(),
    startedAt: deps.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
    associations: deps.associations(),
    today,
    cache: {
      instances: counts.instances,
      studies: counts.studies,
      diskTotalBytes: disk.blocks * disk.bsize,
      diskFreeBytes: disk.bavail * disk.bsize,
    },
    destinations,
    recentEvents: deps.events.list(),
  };
}
