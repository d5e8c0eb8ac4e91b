// A pseudo-terminal pair made by socat, standing in for a serial cable: the box opens one
// end as its serial port, the test types on the other like minicom would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { waitFor } from './wait';

export interface PtyPair {
  /** The end the box opens. */
  readonly boxEnd: string;
  /** The end the test types on. */
  readonly terminalEnd: string;
  stop(): Promise<void>;
}

export async function startPtyPair(boxEnd: string, terminalEnd: string): Promise<PtyPair> {
  const child: ChildProcess = spawn(
    'socat',
    [`pty,raw,echo=0,link=${boxEnd}`, `pty,raw,echo=0,link=${terminalEnd}`],
    { stdio: 'ignore' },
  );
  await waitFor('socat ptys', async () => existsSync(boxEnd) && existsSync(terminalEnd), 5000, 20);
  return {
    boxEnd,
    terminalEnd,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The installer's terminal program on the other end of the cable. */
export class Terminal {
  private output = '';
  private port: SerialPort;

  constructor(path: string) {
    this.port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    this.port.on('data', (d: Buffer) => (this.output += d.toString('latin1')));
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.port.open((err) => (err ? reject(err) : resolve())),
    );
  }

  /** Types the text, then returns everything received until `expected` matches. */
  async type(text: string, expected: RegExp, timeoutMs = 10_000): Promise<string> {
    this.output = '';
    this.port.write(text);
    return this.until(expected, timeoutMs);
  }

  async until(expected: RegExp, timeoutMs = 10_000): Promise<string> {
    await waitFor(
      `terminal output ${expected}`,
      async () => expected.test(this.output),
      timeoutMs,
      20,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; got ${JSON.stringify(this.output)}`);
    });
    return this.output;
  }

  close(): Promise<void> {
    return new Promise((resolve) =>
      this.port.isOpen ? this.port.close(() => resolve()) : resolve(),
    );
  }
}
