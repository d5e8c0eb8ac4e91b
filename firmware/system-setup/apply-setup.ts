// The root side of the dashboard's system set-up: takes the request the dashboard left,
// checks it with the rules the dashboard used (setup-request.ts) and applies it with the
// system's own tools, so the change is live at once and kept across reboots:
//   Ethernet  -> NETWORK_FILE, then networkctl reload + reconfigure (systemd-networkd)
//   host name -> hostnamectl set-hostname (/etc/hostname) and /etc/hosts' 127.0.1.1 line
//   time zone -> timedatectl set-timezone (/etc/localtime)
// The request comes from an unprivileged user: it is opened without following a link,
// must be a small regular file, and nothing of it reaches a shell.
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { replaceFileDurably } from '../replace-file';
import { describeEthernet, renderNetworkFile } from './network-file';
import {
  ETHERNET_INTERFACE,
  MAX_REQUEST_BYTES,
  NETWORK_FILE,
  parseSetupRequest,
  SetupRequestError,
  type SetupRequest,
  type SetupResult,
} from './setup-request';

/** A system tool that failed, with what it said. */
export class SetupCommandError extends Error {
  constructor(command: string, reason: string) {
    super(`${command} failed: ${reason}`);
    this.name = 'SetupCommandError';
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 30_000 }, (err, _out, stderr) => {
      if (err)
        reject(new SetupCommandError(`${command} ${args.join(' ')}`, stderr.trim() || err.message));
      else resolve();
    });
  });
}

/** Reads and removes the request; a link, a folder or an oversized file is refused. */
export async function takeRequest(file: string): Promise<SetupRequest> {
  const handle = await fs.open(
    file,
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
  );
  let text: string;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_REQUEST_BYTES) {
      throw new SetupRequestError('request', 'not a small regular file');
    }
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
    await fs.unlink(file).catch(() => undefined);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SetupRequestError('request', 'not JSON');
  }
  return parseSetupRequest(json);
}

async function applyEthernet(request: SetupRequest): Promise<string | undefined> {
  if (!request.ethernet) return undefined;
  await replaceFileDurably(NETWORK_FILE, renderNetworkFile(request.ethernet), 0o644);
  await run('networkctl', ['reload']);
  await run('networkctl', ['reconfigure', ETHERNET_INTERFACE]);
  return `Ethernet ${describeEthernet(request.ethernet)}`;
}

async function applyHostname(hostname: string | undefined): Promise<string | undefined> {
  if (!hostname) return undefined;
  await run('hostnamectl', ['set-hostname', hostname]);
  // The box's own name resolves without DNS (sudo, mail, the journal's host field).
  const hosts = await fs.readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
  const others = hosts.split('\n').filter((l) => l !== '' && !l.startsWith('127.0.1.1'));
  await replaceFileDurably(
    '/etc/hosts',
    [...others, `127.0.1.1\t${hostname}`, ''].join('\n'),
    0o644,
  );
  return `host name ${hostname}`;
}

async function applyTimezone(zone: string | undefined): Promise<string | undefined> {
  if (!zone) return undefined;
  const stat = await fs.stat(path.join('/usr/share/zoneinfo', zone)).catch(() => undefined);
  if (!stat?.isFile()) throw new SetupRequestError('timezone', `no such time zone: ${zone}`);
  await run('timedatectl', ['set-timezone', zone]);
  return `time zone ${zone}`;
}

/** Applies one request; the result says what changed, or the first thing that failed. */
export async function applySetup(request: SetupRequest): Promise<SetupResult> {
  const done: string[] = [];
  try {
    for (const step of [
      () => applyEthernet(request),
      () => applyHostname(request.hostname),
      () => applyTimezone(request.timezone),
    ]) {
      const what = await step();
      if (what) done.push(what);
    }
  } catch (err) {
    const before = done.length ? ` (applied before it: ${done.join('; ')})` : '';
    return { id: request.id, ok: false, message: `${(err as Error).message}${before}` };
  }
  return {
    id: request.id,
    ok: true,
    message: done.length ? `set: ${done.join('; ')}` : 'nothing to change',
  };
}
