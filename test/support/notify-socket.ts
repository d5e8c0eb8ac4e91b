// A stand-in for systemd's notification socket (NOTIFY_SOCKET): a unix datagram socket
// bound by python3, since Node.js can neither send nor receive on one. Each datagram is
// recorded with the time it came, as systemd would see it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { tempDir } from './peers';
import { waitFor } from './wait';

export interface Notification {
  /** Milliseconds since the epoch when it arrived. */
  readonly at: number;
  readonly state: string;
}

const RECEIVER = `
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    data = s.recv(4096)
    for line in data.decode().splitlines():
        print(int(time.time() * 1000), line, flush=True)
`;

export class NotifySocket {
  readonly received: Notification[] = [];

  private constructor(
    readonly path: string,
    private readonly child: ChildProcess,
  ) {}

  static async open(): Promise<NotifySocket> {
    const file = path.join(tempDir('notify'), 'notify.sock');
    const child = spawn('python3', ['-c', RECEIVER, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const socket = new NotifySocket(file, child);
    let bound = false;
    let pending = '';
    child.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line === 'bound') bound = true;
        const m = /^(\d+) (.*)$/.exec(line);
        if (m) socket.received.push({ at: Number(m[1]), state: m[2]! });
      }
    });
    await waitFor('the notification socket', async () => bound, 10_000, 20);
    return socket;
  }

  /** The notifications with this state (BARRIER=1 is systemd-notify's own). */
  with(state: string): Notification[] {
    return this.received.filter((n) => n.state === state);
  }

  /** Resolves with the first notification of `state` that arrives after `since`. */
  waitFor(state: string, since = 0, timeoutMs = 20_000): Promise<Notification> {
    return waitFor(
      `${state} on the notification socket`,
      async () => this.with(state).find((n) => n.at >= since),
      timeoutMs,
      20,
    );
  }

  close(): void {
    this.child.kill();
  }
}
