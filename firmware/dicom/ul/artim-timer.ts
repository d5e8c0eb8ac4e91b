// The Association Request/Reject/Release timer (ARTIM, PS3.8 §9.1.5): one timer per
// association, started and stopped by the actions; its expiry is Evt18.
export class ArtimTimer {
  private timer?: NodeJS.Timeout;

  constructor(private readonly onExpired: () => void) {}

  /** Starts, or restarts, the timer for `ms`. */
  start(ms: number): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onExpired();
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
