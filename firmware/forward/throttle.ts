// A bandwidth cap for thin clinic links: one token bucket per destination, shared by
// every instance sent there. It starts empty and holds at most a quarter second of
// credit, so no burst exceeds the cap noticeably.
export class RateLimiter {
  private credit: number;
  private last = Date.now();

  constructor(private readonly bytesPerSecond: number) {
    this.credit = 0;
  }

  /** Passes the chunks through no faster than the cap allows. */
  async *limit(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const now = Date.now();
      this.credit = Math.min(
        this.bytesPerSecond / 4,
        this.credit + ((now - this.last) / 1000) * this.bytesPerSecond,
      );
      this.last = now;
      this.credit -= chunk.length;
      if (this.credit < 0)
        await new Promise((r) => setTimeout(r, (-this.credit / this.bytesPerSecond) * 1000));
      yield chunk;
    }
  }
}
