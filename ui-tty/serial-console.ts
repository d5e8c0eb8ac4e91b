// The serial console: the console's command set on a serial port, for an installer with a
// laptop and a USB-serial cable. A port that is missing, unplugged or fails is logged once
// and retried every few seconds; it never stops or slows the box.
import type { SerialPort } from 'serialport';
import type { SerialConfig } from '../firmware/config/config';
import { log } from '../firmware/log';
import type { ConsoleCommands } from './console-commands';
import { LineEditor } from './line-editor';

export const PROMPT = 'dicom-edge> ';

/** serialport (and its native binding) is loaded only by a box that has a serial console. */
function serialport(): typeof import('serialport') {
  /* eslint-disable-next-line @typescript-eslint/no-require-imports */
  return require('serialport') as typeof import('serialport');
}

/** Serial ports the system knows of. Listing needs udev; without it there are none. */
export async function listSerialPorts(): Promise<string[]> {
  try {
    return (await serialport().SerialPort.list()).map((p) => p.path);
  } catch {
    return [];
  }
}

/** Terminals move down a line on LF but back to the left only on CR. */
export function toTerminal(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

export class SerialConsole {
  private port: SerialPort | undefined;
  private editor = new LineEditor();
  private work: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The last problem logged, so a port missing for days logs once, not every retry. */
  private lastProblem: string | undefined;

  constructor(
    readonly settings: SerialConfig,
    private readonly commands: ConsoleCommands,
    private readonly retryMs = 5000,
  ) {}

  start(): void {
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.work;
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private open(): void {
    const { path, baudRate } = this.settings;
    const port = new (serialport().SerialPort)({ path, baudRate, autoOpen: false });
    port.on('data', (data: Buffer) => this.onData(data));
    port.on('error', (err: Error) => void this.problem('serial port error', err));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      if (this.port !== port) return;
      this.port = undefined;
      if (this.stopped) return;
      void this.problem('serial port closed', err ?? new Error('closed'));
      this.retry();
    });
    port.open((err) => {
      if (this.stopped) {
        if (!err) port.close();
        return;
      }
      if (err) {
        void this.problem('serial port unavailable', err);
        this.retry();
        return;
      }
      this.port = port;
      this.editor = new LineEditor();
      this.lastProblem = undefined;
      log.info('serial console ready', { path, baudRate });
      this.write(`\r\ndicom-edge console on ${path} (type help)\r\n${PROMPT}`);
    });
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), this.retryMs);
  }

  private async problem(what: string, err: Error): Promise<void> {
    const key = `${what}: ${err.message}`;
    if (key === this.lastProblem) return;
    this.lastProblem = key;
    const available = await listSerialPorts();
    log.warn(what, {
      path: this.settings.path,
      reason: err.message,
      retryEverySeconds: this.retryMs / 1000,
      available: available.join(',') || '(none listed)',
    });
  }

  private onData(data: Buffer): void {
    const typed = this.editor.feed(data);
    if (typed.echo) this.write(typed.echo);
    if (typed.interrupted && typed.lines.length === 0) this.write(PROMPT);
    for (const line of typed.lines) {
      // In order, one at a time: the answer to a line comes before the next prompt.
      this.work = this.work.then(async () => {
        const output = await this.commands.run(line);
        this.write(`${output ? toTerminal(output) + '\r\n' : ''}${PROMPT}`);
      });
    }
  }

  private write(text: string): void {
    this.port?.write(text);
  }
}

/** The box's serial console, if any: reopened when its settings change, closed on stop. */
export class SerialConsoles {
  private current: SerialConsole | undefined;
  private closing: Promise<void> = Promise.resolve();

  constructor(private readonly commands: ConsoleCommands) {}

  open(settings: SerialConfig | undefined): void {
    const same =
      this.current?.settings.path === settings?.path &&
      this.current?.settings.baudRate === settings?.baudRate;
    if (same) return;
    const previous = this.current;
    this.current = settings ? new SerialConsole(settings, this.commands) : undefined;
    const next = this.current;
    // The old port is released before the new one opens (it may be the same device).
    this.closing = this.closing.then(async () => {
      await previous?.stop();
      next?.start();
    });
  }

  async close(): Promise<void> {
    this.open(undefined);
    await this.closing;
  }
}
