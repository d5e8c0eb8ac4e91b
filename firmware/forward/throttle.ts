// A bandwidth cap for thin clinic links: passes chunks through no faster than
// bytesPerSecond on average (a token bucket holding at most one second of credit).
export async function* throttle(
  source: AsyncIterable<Buffer>,
  bytesPerSecond: number,
): AsyncGenerator<Buffer> {
  let credit = bytesPerSecond;
  let last = Date.now();
  for await (const chunk of source) {
    const now = Date.now();
    credit = Math.min(bytesPerSecond, credit + ((now - last) / 1000) * bytesPerSecond);
    last = now;
    credit -= chunk.length;
    if (credit < 0) {
      await new Promise((r) => setTimeout(r, (-credit / bytesPerSecond) * 1000));
    }
    yield chunk;
  }
}
