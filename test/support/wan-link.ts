// A far clinic WAN on 127.0.0.1 (issue 30): a TCP proxy that delays each direction by
// `delayMs` and lets through at most `bytesPerSecond` each way, shared by every connection
// through it, as one line is. Each direction is modelled as a link that sends one chunk
// after another at the rate (a chunk leaves when the link is free and the time its bytes
// take has passed) and delivers it `delayMs` later; a connection with more than its window
// on the way is paused, so backpressure reaches the sender as TCP's window would. It
// counts what goes through: connections, the most open at once, and the bytes towards the
// destination with when they arrived (to measure a bandwidth cap).
import * as net from 'node:net';

export interface WanLinkOptions {
  /** Where the destination listens on 127.0.0.1. */
  readonly targetPort: number;
  /** One-way delay in ms (a round trip is twice this). */
  readonly delayMs?: number;
  /** Bytes per second each way, all connections together; unlimited when absent. */
  readonly bytesPerSecond?: number;
  /**
   * Bytes of one connection on their way at most (TCP's window): by default a round
   * trip's worth at the rate and 64 KB more, 4 MB without a rate.
   */
  readonly windowBytes?: number;
  /** The port to listen on; a free one when absent. */
  readonly port?: number;
}

/** Bytes that arrived from the caller's side, at a time (performance.now() ms). */
export interface Arrival {
  readonly at: number;
  readonly bytes: number;
  /** Which connection (1, 2, … in the order they were made). */
  readonly connection: number;
}

export interface WanLink {
  readonly port: number;
  /** Connections made through it so far. */
  readonly connections: number;
  /** The most connections open through it at one time. */
  readonly mostOpen: number;
  /** Bytes from the caller towards the destination, as they arrived. */
  readonly upstream: readonly Arrival[];
  /** Bytes through it each way so far. */
  readonly bytes: { readonly up: number; readonly down: number };
  close(): Promise<void>;
}

/** One direction of the line: a rate shared by every connection, then the delay. */
class Link {
  private freeAt = 0;
  carried = 0;

  constructor(
    private readonly delayMs: number,
    private readonly bytesPerSecond: number | undefined,
  ) {}

  /** When a chunk arriving now reaches the far end. */
  admit(bytes: number): number {
    const now = performance.now();
    this.carried += bytes;
    if (this.bytesPerSecond === undefined) return now + this.delayMs;
    const leaves = Math.max(now, this.freeAt) + (bytes / this.bytesPerSecond) * 1000;
    this.freeAt = leaves;
    return leaves + this.delayMs;
  }
}

/**
 * Carries one direction of one connection: chunks (and the end) delivered in order, each
 * at its time. While more than `window` bytes are on their way the sender is paused, as
 * TCP's window would hold it.
 */
function pipe(
  from: net.Socket,
  to: net.Socket,
  link: Link,
  window: number,
  onChunk?: (bytes: number) => void,
): void {
  const queue: Array<{ at: number; chunk: Buffer | null }> = [];
  let onTheWay = 0;
  let timer: NodeJS.Timeout | undefined;
  const pump = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.at <= now + 0.5) {
      const { chunk } = queue.shift()!;
      if (chunk === null) to.end();
      else {
        onTheWay -= chunk.length;
        if (!to.destroyed) to.write(chunk);
      }
    }
    if (onTheWay <= window && from.isPaused()) from.resume();
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.at - now);
  };
  const push = (at: number, chunk: Buffer | null): void => {
    queue.push({ at, chunk });
    if (!timer) timer = setTimeout(pump, Math.max(0, queue[0]!.at - performance.now()));
  };
  from.on('data', (chunk: Buffer) => {
    onChunk?.(chunk.length);
    onTheWay += chunk.length;
    push(link.admit(chunk.length), chunk);
    if (onTheWay > window) from.pause();
  });
  from.on('end', () => push(link.admit(0), null));
  const drop = (): void => {
    clearTimeout(timer);
    queue.length = 0;
    to.destroy();
  };
  from.on('error', drop);
  // A connection closed without its end (reset): the far side is reset as well, at once.
  from.on('close', (hadError) => hadError && drop());
}

export async function startWanLink(options: WanLinkOptions): Promise<WanLink> {
  const delayMs = options.delayMs ?? 0;
  const rate = options.bytesPerSecond;
  const window =
    options.windowBytes ??
    (rate === undefined ? 4 * 1024 * 1024 : (rate * 2 * delayMs) / 1000 + 64 * 1024);
  const up = new Link(delayMs, rate);
  const down = new Link(delayMs, rate);
  const upstream: Arrival[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let open = 0;
  let mostOpen = 0;
  const server = net.createServer((caller) => {
    const connection = ++connections;
    mostOpen = Math.max(mostOpen, ++open);
    caller.setNoDelay(true);
    const destination = net.connect({ host: '127.0.0.1', port: options.targetPort });
    destination.setNoDelay(true);
    caller.pause(); // until the destination is there: nothing is lost, nothing waits twice
    destination.once('connect', () => caller.resume());
    for (const s of [caller, destination]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    caller.once('close', () => open--);
    pipe(caller, destination, up, window, (bytes) =>
      upstream.push({ at: performance.now(), bytes, connection }),
    );
    pipe(destination, caller, down, window);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    get connections() {
      return connections;
    },
    get mostOpen() {
      return mostOpen;
    },
    upstream,
    get bytes() {
      return { up: up.carried, down: down.carried };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
