// The dashboard's system set-up (key s), for an installer with a keyboard and the box's
// screen: the Ethernet port (DHCP or a static address, gateway, DNS), the host name and
// the time zone. It asks with the dashboard's own prompt, checks each answer with the
// rules the root helper applies (firmware/system-setup/), and leaves the request for that
// helper; then it waits for the helper's result. Only a box made from the SD-card image
// has the helper (its folder is writable by the box's user); elsewhere it says so.
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeEthernet, parseNetworkFile } from '../firmware/system-setup/network-file';
import {
  NETWORK_FILE,
  readAddress,
  readDnsServers,
  readGateway,
  readHostname,
  readTimezone,
  REQUEST_FILE,
  RESULT_FILE,
  SetupRequestError,
  type EthernetSetting,
  type SetupRequest,
  type SetupResult,
} from '../firmware/system-setup/setup-request';

/** The dashboard's prompt: the typed line, the current value on Enter, undefined on Escape. */
export type Ask = (question: string, current: string) => Promise<string | undefined>;
export type Say = (text: string, error?: boolean) => void;

/** How long the helper may take: networkctl reconfigure waits for the link. */
const RESULT_TIMEOUT_MS = 60_000;

export interface CurrentSetup {
  readonly ethernet: EthernetSetting;
  readonly hostname: string;
  readonly timezone: string;
}

export async function currentSetup(): Promise<CurrentSetup> {
  const network = await fs.readFile(NETWORK_FILE, 'utf8').catch(() => '');
  const localtime = await fs.readlink('/etc/localtime').catch(() => '');
  const zone = /zoneinfo\/(.+)$/.exec(localtime)?.[1] ?? 'Etc/UTC';
  return { ethernet: parseNetworkFile(network), hostname: os.hostname(), timezone: zone };
}

/** Asks until the answer passes `read` (its reason shown) or Escape; undefined on Escape. */
async function askValid<T>(
  ask: Ask,
  say: Say,
  question: string,
  current: string,
  read: (text: string) => T,
): Promise<T | undefined> {
  for (;;) {
    const answer = await ask(question, current);
    if (answer === undefined) return undefined;
    try {
      return read(answer);
    } catch (err) {
      if (!(err instanceof SetupRequestError)) throw err;
      say(err.message, true);
    }
  }
}

/** DNS servers as typed: separated by spaces or commas. */
function readDns(text: string): string[] {
  return readDnsServers(text.split(/[\s,]+/).filter(Boolean));
}

async function askEthernet(
  ask: Ask,
  say: Say,
  now: EthernetSetting,
): Promise<EthernetSetting | undefined> {
  const mode = await askValid(ask, say, 'Ethernet: dhcp or static', now.mode, (t) => {
    const m = t.trim().toLowerCase();
    if (m !== 'dhcp' && m !== 'static')
      throw new SetupRequestError('Ethernet', 'type dhcp or static');
    return m;
  });
  if (mode !== 'static') return mode === 'dhcp' ? { mode } : undefined;
  const old = now.mode === 'static' ? now : undefined;
  const address = await askValid(ask, say, 'Address/prefix', old?.address ?? '', readAddress);
  if (address === undefined) return undefined;
  const gateway = await askValid(ask, say, 'Gateway (- for none)', old?.gateway ?? '', readGateway);
  if (gateway === undefined) return undefined;
  const dns = await askValid(ask, say, 'DNS servers', old?.dns.join(' ') ?? '', readDns);
  if (dns === undefined) return undefined;
  return { mode: 'static', address, ...(gateway ? { gateway } : {}), dns };
}

/** The questions; the request holds only what changed. Undefined when Escape was pressed. */
export async function askSystemSetup(
  ask: Ask,
  say: Say,
  now: CurrentSetup,
): Promise<SetupRequest | undefined> {
  const ethernet = await askEthernet(ask, say, now.ethernet);
  if (!ethernet) return undefined;
  const hostname = await askValid(ask, say, 'Host name', now.hostname, readHostname);
  if (hostname === undefined) return undefined;
  const timezone = await askValid(ask, say, 'Time zone', now.timezone, readTimezone);
  if (timezone === undefined) return undefined;
  const changed = JSON.stringify(ethernet) !== JSON.stringify(now.ethernet);
  return {
    id: randomBytes(8).toString('hex'),
    ...(changed ? { ethernet } : {}),
    ...(hostname !== now.hostname ? { hostname } : {}),
    ...(timezone !== now.timezone ? { timezone } : {}),
  };
}

/** Leaves the request for the helper (whole or not at all) and waits for its result. */
export async function submitSetup(request: SetupRequest): Promise<SetupResult> {
  const temp = path.join(path.dirname(REQUEST_FILE), `.${request.id}.tmp`);
  await fs.writeFile(temp, JSON.stringify(request), { mode: 0o600 });
  await fs.rename(temp, REQUEST_FILE);
  const deadline = Date.now() + RESULT_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const text = await fs.readFile(RESULT_FILE, 'utf8').catch(() => '');
    try {
      const result = JSON.parse(text) as SetupResult;
      if (result.id === request.id) return result;
    } catch {
      // Not written yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { id: request.id, ok: false, message: 'the set-up helper did not answer in 60 s' };
}

/** The whole of key s: available, asked, sent, and the helper's answer shown. */
export async function runSystemSetup(ask: Ask, say: Say): Promise<void> {
  const available = await fs
    .access(path.dirname(REQUEST_FILE), constants.W_OK)
    .then(() => true)
    .catch(() => false);
  if (!available) {
    return say('system set-up is part of the dicom-edge SD-card image (docs/image.md)', true);
  }
  const now = await currentSetup();
  say(`now: Ethernet ${describeEthernet(now.ethernet)}, ${now.hostname}, ${now.timezone}`);
  const request = await askSystemSetup(ask, say, now);
  if (!request) return say('set-up cancelled');
  if (!request.ethernet && !request.hostname && !request.timezone) return say('nothing changed');
  say('applying...');
  const result = await submitSetup(request);
  say(result.message, !result.ok);
}
