// The machine's health for the dashboard and the status: CPU temperature, load, memory and
// network links, read with `systeminformation`. Some readings shell out or read /sys, so
// they are taken at most every few seconds and a status request never waits on a fresh one
// once a first reading exists. Readings a machine cannot give (no thermal sensor in a VM)
// are null, never an error.
import * as os from 'node:os';

export interface NetworkLink {
  readonly name: string;
  readonly up: boolean;
  /** Mbit/s, when the driver tells. */
  readonly speedMbps: number | null;
  readonly address: string | null;
}

export interface Health {
  readonly takenAt: string;
  readonly cpuTemperatureC: number | null;
  /** 1, 5 and 15 minute load averages, and how many CPUs share them. */
  readonly load: readonly [number, number, number];
  readonly cpus: number;
  readonly memory: { totalBytes: number; availableBytes: number };
  /** Physical links (loopback and virtual interfaces left out). */
  readonly links: NetworkLink[];
  /** The box process's own resident memory. */
  readonly processRssBytes: number;
}

async function read(): Promise<Health> {
  // Loaded at the first reading: a box nobody asks about does not carry it.
  const si = await import('systeminformation');
  const [temperature, memory, interfaces] = await Promise.all([
    si.cpuTemperature().catch(() => ({ main: null })),
    si.mem().catch(() => ({ total: os.totalmem(), available: os.freemem() })),
    si.networkInterfaces().catch(() => []),
  ]);
  const list = Array.isArray(interfaces) ? interfaces : [interfaces];
  const loads = os.loadavg();
  return {
    takenAt: new Date().toISOString(),
    cpuTemperatureC: typeof temperature.main === 'number' ? temperature.main : null,
    load: [loads[0] ?? 0, loads[1] ?? 0, loads[2] ?? 0],
    cpus: os.cpus().length,
    memory: { totalBytes: memory.total, availableBytes: memory.available },
    links: list
      .filter((i) => !i.internal && !i.virtual)
      .map((i) => ({
        name: i.iface,
        up: i.operstate === 'up',
        speedMbps: typeof i.speed === 'number' && i.speed > 0 ? i.speed : null,
        address: i.ip4 || i.ip6 || null,
      })),
    processRssBytes: process.memoryUsage.rss(),
  };
}

export class HealthMonitor {
  private last: Health | undefined;
  private pending: Promise<Health> | undefined;

  constructor(private readonly maxAgeMs = 5000) {}

  /** The latest reading; a stale one is returned at once while a new one is taken. */
  async current(): Promise<Health> {
    const fresh = this.last && Date.now() - Date.parse(this.last.takenAt) < this.maxAgeMs;
    if (fresh) return this.last!;
    this.pending ??= read().finally(() => (this.pending = undefined));
    const taking = this.pending.then((h) => (this.last = h));
    return this.last ?? taking;
  }
}
