// A terminal for the dashboard tests: a tmux server of the test's own (its own socket, so
// nothing else's sessions are touched), one window of a fixed size, keys in, screen out.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from './wait';

const exec = promisify(execFile);

export class TmuxScreen {
  private readonly socket = `dicom-edge-test-${process.pid}-${Date.now()}`;

  private tmux(...args: string[]): Promise<{ stdout: string }> {
    return exec('tmux', ['-L', this.socket, ...args], {
      env: { ...process.env, TERM: 'xterm-256color' },
    });
  }

  async start(command: string, width = 80, height = 24): Promise<void> {
    // remain-on-exit keeps the last screen readable if the program ends early.
    await this.tmux(
      'new-session',
      '-d',
      '-s',
      'main',
      '-x',
      String(width),
      '-y',
      String(height),
      command,
    );
    await this.tmux('set-option', '-t', 'main', 'remain-on-exit', 'on');
  }

  async capture(): Promise<string> {
    return (await this.tmux('capture-pane', '-p', '-t', 'main')).stdout;
  }

  /** Sends keys one at a time, as typed (tmux key names: Enter, C-u, Down...). */
  async keys(...keys: string[]): Promise<void> {
    for (const key of keys) {
      await this.tmux('send-keys', '-t', 'main', key);
      await new Promise((r) => setTimeout(r, 60));
    }
  }

  /** Waits until the screen matches; returns it. */
  async until(expected: RegExp, timeoutMs = 15_000): Promise<string> {
    let screen = '';
    await waitFor(
      `screen ${expected}`,
      async () => {
        screen = await this.capture();
        return expected.test(screen);
      },
      timeoutMs,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; screen:\n${screen}`);
    });
    return screen;
  }

  async stop(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }
}
