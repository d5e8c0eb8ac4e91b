// The SD-card image booted in qemu-system-aarch64 (-M virt -cpu cortex-a72, TCG) for the
// image test: the image's own kernel, initrd and root file system on a copy-on-write disk
// (the image is never written), user-mode networking with restrict=on and ports forwarded
// from 127.0.0.1 only. Four channels into the guest:
//   ttyAMA0 (the PL011, as the Pi's UART)  -> a unix socket here: the box's serial console
//   hvc0 (virtio console)                  -> a file here: the kernel's and systemd's console
//   hvc1 (virtio console)                  -> a unix socket here: systemd's debug shell
//     (systemd.debug_shell=hvc1 on the test's kernel command line only: the image has no
//     login anywhere; this is the test's hook, as a technician's serial cable would be)
//   a virtio keyboard, typed on through QEMU's monitor (sendkey): what reaches tty1
// The Pi's own boot chain (its firmware reading config.txt) is not emulated: QEMU 7.2 has
// no Raspberry Pi 4 board.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { run } from './peers';
import { extractBootFiles } from './sd-card-image';
import { waitFor } from './wait';

export interface GuestOptions {
  readonly image: string;
  /** A folder of the test's, for the disk overlay, the sockets and the console log. */
  readonly dir: string;
  /** The disk's size: larger than the image, as a card is, so the cache partition grows. */
  readonly diskSize: string;
  /** host port on 127.0.0.1 -> guest "address:port" (address empty: the DHCP address). */
  readonly hostForwards: ReadonlyArray<{ hostPort: number; guest: string }>;
  /** guest address:port -> a port on this machine's 127.0.0.1 (one connection each time). */
  readonly guestForwards: ReadonlyArray<{ guest: string; hostPort: number }>;
}

/** Keys of QEMU's sendkey for the characters the test types. */
function keyName(ch: string): string {
  const named: Record<string, string> = {
    '\n': 'ret',
    ' ': 'spc',
    '.': 'dot',
    '/': 'slash',
    '-': 'minus',
    _: 'shift-minus',
    ':': 'shift-semicolon',
    ',': 'comma',
  };
  if (named[ch]) return named[ch]!;
  if (/^[a-z0-9]$/.test(ch)) return ch;
  if (/^[A-Z]$/.test(ch)) return `shift-${ch.toLowerCase()}`;
  throw new Error(`no key for ${JSON.stringify(ch)}`);
}

/** A line-oriented byte stream over a unix socket, read by waiting for a pattern. */
class Channel {
  private text = '';
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => (this.text += d.toString('latin1')));
  }

  static async connect(file: string): Promise<Channel> {
    const socket = await waitFor(
      `QEMU's socket ${file}`,
      () =>
        new Promise<net.Socket | undefined>((resolve) => {
          const s = net.connect(file, () => resolve(s));
          s.on('error', () => resolve(undefined));
        }),
      30_000,
      200,
    );
    return new Channel(socket);
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Waits for pattern in what arrived since the last take; returns that text and drops it. */
  async take(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return waitFor(
      `${pattern} (seen: ${this.text.slice(-300)})`,
      async () => {
        const m = pattern.exec(this.text);
        if (!m) return undefined;
        this.text = this.text.slice(m.index + m[0].length);
        return m;
      },
      timeoutMs,
      100,
    );
  }

  close(): void {
    this.socket.destroy();
  }
}

export class QemuGuest {
  private shellChannel: Channel | undefined;
  private serialChannel: Channel | undefined;
  private commands = 0;

  private constructor(
    private readonly qemu: ChildProcess,
    private readonly dir: string,
    /** When QEMU was started: the guest's power-on. */
    readonly startedAt: number,
  ) {}

  static async boot(o: GuestOptions): Promise<QemuGuest> {
    const boot = await extractBootFiles(o.image, o.dir);
    const disk = path.join(o.dir, 'disk.qcow2');
    const made = await run('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-F',
      'raw',
      '-b',
      path.resolve(o.image),
      disk,
      o.diskSize,
    ]);
    if (made.code !== 0) throw new Error(`qemu-img create: ${made.stderr}`);
    // The Pi's command line with the test's consoles instead of the Pi's screen.
    const cmdline = [
      ...boot.cmdline.split(/\s+/).filter((a) => !a.startsWith('console=')),
      'console=hvc0',
      'systemd.debug_shell=hvc1',
    ].join(' ');
    const forwards = [
      ...o.hostForwards.map((f) => `hostfwd=tcp:127.0.0.1:${f.hostPort}-${f.guest}`),
      // One socat per connection of the guest (cmd:), to this machine's loopback only.
      ...o.guestForwards.map(
        (f) => `guestfwd=tcp:${f.guest}-cmd:socat - TCP:127.0.0.1:${f.hostPort}`,
      ),
    ];
    const sock = (name: string): string => path.join(o.dir, `${name}.sock`);
    const args = [
      '-M',
      'virt',
      '-cpu',
      'cortex-a72',
      '-smp',
      '2',
      '-m',
      '1024',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-kernel',
      boot.kernel,
      '-initrd',
      boot.initrd,
      '-append',
      cmdline,
      '-drive',
      `file=${disk},if=none,id=disk,format=qcow2`,
      '-device',
      'virtio-blk-pci,drive=disk',
      '-netdev',
      ['user', 'id=net0', 'restrict=on', ...forwards].join(','),
      '-device',
      // No option ROM: the kernel is loaded directly, nothing boots from the network.
      'virtio-net-pci,netdev=net0,romfile=',
      // A watchdog device for systemd's RuntimeWatchdogSec (the Pi has bcm2835-wdt).
      '-device',
      'i6300esb',
      '-device',
      'virtio-keyboard-pci',
      '-chardev',
      `socket,id=uart,path=${sock('uart')},server=on,wait=off`,
      '-serial',
      'chardev:uart',
      '-device',
      'virtio-serial-pci',
      '-chardev',
      `file,id=log,path=${path.join(o.dir, 'console.log')}`,
      '-device',
      'virtconsole,chardev=log',
      '-chardev',
      `socket,id=shell,path=${sock('shell')},server=on,wait=off`,
      '-device',
      'virtconsole,chardev=shell',
      '-monitor',
      `unix:${sock('monitor')},server=on,wait=off`,
    ];
    const startedAt = Date.now();
    const qemu = spawn('qemu-system-aarch64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    qemu.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const guest = new QemuGuest(qemu, o.dir, startedAt);
    await new Promise((r) => setTimeout(r, 1000));
    if (qemu.exitCode !== null) throw new Error(`qemu-system-aarch64 exited: ${stderr}`);
    return guest;
  }

  /** The kernel's and systemd's console so far. */
  consoleLog(): Promise<string> {
    return fs.readFile(path.join(this.dir, 'console.log'), 'latin1').catch(() => '');
  }

  /** Waits for the debug shell (systemd starts it early in the boot). */
  async openShell(timeoutMs: number): Promise<void> {
    // QEMU serves one client per socket: the connection of before a reboot goes first.
    this.shellChannel?.close();
    const shell = await Channel.connect(path.join(this.dir, 'shell.sock'));
    this.shellChannel = shell;
    // A shell for a program: no echo, no prompt, no bracketed-paste codes, no pager, no colour.
    const quiet =
      "stty -echo; bind 'set enable-bracketed-paste off' 2>/dev/null; PS1=; PS2=; " +
      'export SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb';
    await waitFor(
      'the debug shell',
      async () => {
        shell.write(`\n${quiet}; echo SHELL_READY_$((40+2))\n`);
        await shell.take(/SHELL_READY_42/, 5000);
        return true;
      },
      timeoutMs,
      1000,
    );
  }

  /** Runs a command as root in the guest; its output and exit status. */
  async shell(command: string, timeoutMs = 120_000): Promise<{ code: number; out: string }> {
    const shell = this.shellChannel;
    if (!shell) throw new Error('openShell first');
    const n = ++this.commands;
    // One line the tty hands over whole: the command travels in base64 (no quoting, no line
    // of it read by a program still running) and runs with stdin from /dev/null, so nothing
    // it starts can eat the bytes of the next command. The markers are printed by printf:
    // were the line echoed, its format strings would not match.
    const script = Buffer.from(command).toString('base64');
    shell.write(
      `printf '\\n__BEGIN_${n}__\\n'; bash -c "$(echo ${script} | base64 -d)" </dev/null 2>&1; ` +
        `printf '\\n__DONE_${n}_%d__\\n' $?\n`,
    );
    const m = await shell.take(
      new RegExp(`__BEGIN_${n}__\\r?\\n([\\s\\S]*?)\\r?\\n__DONE_${n}_(\\d+)__`),
      timeoutMs,
    );
    // eslint-disable-next-line no-control-regex
    const out = m[1]!.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
    return { code: Number(m[2]), out: out.trim() };
  }

  /** Like shell, but the command must succeed; its output. */
  async must(command: string, timeoutMs?: number): Promise<string> {
    const r = await this.shell(command, timeoutMs);
    if (r.code !== 0) throw new Error(`${command} exited ${r.code}: ${r.out}`);
    return r.out;
  }

  /** The text on tty1, row by row, as the Pi's screen would show it (/dev/vcs1). */
  async screen(): Promise<string> {
    return this.must('fold -w "$(stty -F /dev/tty1 size | cut -d" " -f2)" /dev/vcs1; echo');
  }

  /** Types on the keyboard (the virtio keyboard: the console's keyboard, as on the Pi). */
  async type(text: string): Promise<void> {
    const monitor = await Channel.connect(path.join(this.dir, 'monitor.sock'));
    try {
      for (const ch of text) {
        monitor.write(`sendkey ${keyName(ch)}\n`);
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      monitor.close();
    }
  }

  /** A command line on the box's serial console (ttyAMA0); its answer up to the next prompt. */
  async serialCommand(command: string, timeoutMs = 60_000): Promise<string> {
    if (!this.serialChannel)
      this.serialChannel = await Channel.connect(path.join(this.dir, 'uart.sock'));
    this.serialChannel.write(`${command}\r`);
    const m = await this.serialChannel.take(/([\s\S]*?)dicom-edge> /, timeoutMs);
    return m[1]!.replace(/\r/g, '');
  }

  /** Powers the guest off at once (QEMU killed: a pulled plug) and closes the channels. */
  async stop(): Promise<void> {
    this.shellChannel?.close();
    this.serialChannel?.close();
    if (this.qemu.exitCode === null && this.qemu.signalCode === null) {
      this.qemu.kill('SIGKILL');
      await new Promise((r) => this.qemu.once('exit', r));
    }
  }
}
