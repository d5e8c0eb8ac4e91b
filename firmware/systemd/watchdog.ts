// systemd's watchdog (WatchdogSec= in the unit): WATCHDOG=1 every half of WATCHDOG_USEC,
// each only after the index answered a probe. A blocked event loop sends nothing (no timer
// fires), and neither does an index that stalls: the next probe waits behind the stuck
// statement, and nothing is sent until it returns. systemd then kills the box and starts
// it again (Restart=always), which a box that answers no association would not get.
import { log } from '../log';
import type { Notify } from './notify';

/** The interval systemd asked for: half of WATCHDOG_USEC, for this process only. */
export function watchdogInterval(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  // WATCHDOG_PID names the process the watchdog is for; a child that inherited the
  // environment (a shell the box runs, say) is not it.
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly intervalMs: number,
    /** Resolves when the index answers; rejects or never resolves when it does not. */
    private readonly probe: () => Promise<void>,
    private readonly notify: Notify,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
  }

  /** One probe, then WATCHDOG=1 if it answered; the next tick is timed from its end. */
  private async tick(): Promise<void> {
    try {
      await this.probe();
    } catch (err) {
      if (!this.failing) log.error('watchdog: the index does not answer', { error: String(err) });
      this.failing = true;
      this.schedule();
      return;
    }
    if (this.failing) log.info('watchdog: the index answers again');
    this.failing = false;
    if (this.stopped) return;
    await this.notify('WATCHDOG=1');
    this.schedule();
  }
}
