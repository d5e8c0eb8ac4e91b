// What the installer sets on the dashboard of a box made from the SD-card image
// (docs/image.md): the Ethernet port's address, the host name and the time zone. The
// dashboard runs as the box's unprivileged user and writes a request; a root helper
// (apply-setup-main.ts, started by a path unit) reads it, checks it again with the same
// rules and applies it. Everything here is pure: both sides share one copy of each rule.
import { isIP, isIPv4 } from 'node:net';
import { hostProblem } from '../config/checks';

/** The folder the image's tmpfiles.d makes: root's, with requests/ owned by the box's user. */
export const SETUP_DIR = '/run/dicom-edge-setup';
export const REQUEST_FILE = `${SETUP_DIR}/requests/request.json`;
export const RESULT_FILE = `${SETUP_DIR}/result.json`;
/** The Ethernet port (the image boots with net.ifnames=0) and its systemd-networkd file. */
export const ETHERNET_INTERFACE = 'eth0';
export const NETWORK_FILE = '/etc/systemd/network/10-dicom-edge-eth0.network';
/** A request is a few hundred bytes; the helper reads no more than this. */
export const MAX_REQUEST_BYTES = 4096;

export type EthernetSetting =
  | { readonly mode: 'dhcp' }
  | {
      readonly mode: 'static';
      /** a.b.c.d/prefix */
      readonly address: string;
      readonly gateway?: string;
      readonly dns: readonly string[];
    };

export interface SetupRequest {
  /** Chosen by the dashboard; the result names it, so an old result is not taken for new. */
  readonly id: string;
  readonly ethernet?: EthernetSetting;
  readonly hostname?: string;
  readonly timezone?: string;
}

export interface SetupResult {
  readonly id: string;
  readonly ok: boolean;
  /** What was applied, or why nothing was. */
  readonly message: string;
}

/** A field of a request that breaks a rule, named as the dashboard asked for it. */
export class SetupRequestError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'SetupRequestError';
  }
}

/** a.b.c.d/n with n from 1 to 32; a bare a.b.c.d is taken as /24, the usual clinic LAN. */
export function readAddress(text: string): string {
  const [ip, prefix = '24', ...rest] = text.trim().split('/');
  const n = Number(prefix);
  if (rest.length > 0 || !ip || !isIPv4(ip) || !/^\d{1,2}$/.test(prefix) || n < 1 || n > 32) {
    throw new SetupRequestError('address', `not an IPv4 address with a prefix: ${text}`);
  }
  return `${ip}/${n}`;
}

/**
 * A host name: RFC 1123 labels (the configuration's rule for a node's host, lower-cased),
 * not an address and without a trailing dot.
 */
export function readHostname(text: string): string {
  const name = text.trim().toLowerCase();
  if (isIP(name) !== 0 || name.endsWith('.') || hostProblem(name) !== undefined) {
    throw new SetupRequestError(
      'hostname',
      `letters, digits and hyphens only, not at the start or end: ${text}`,
    );
  }
  return name;
}

/** The gateway as typed: an IPv4 address, or none ('' or '-' typed): ''. */
export function readGateway(text: string): string {
  const gateway = text.trim() === '-' ? '' : text.trim();
  if (gateway && !isIPv4(gateway)) {
    throw new SetupRequestError('gateway', `not an IPv4 address: ${gateway}`);
  }
  return gateway;
}

/** Up to 3 DNS servers, IPv4 addresses. */
export function readDnsServers(servers: readonly string[]): string[] {
  const wrong = servers.find((d) => !isIPv4(d));
  if (wrong !== undefined) throw new SetupRequestError('dns', `not an IPv4 address: ${wrong}`);
  if (servers.length > 3) throw new SetupRequestError('dns', 'at most 3 servers');
  return [...servers];
}

/** A tz database name such as Europe/Paris or UTC; whether it exists is the helper's check. */
export function readTimezone(text: string): string {
  const zone = text.trim();
  const part = /^[A-Za-z0-9_+-]+$/;
  if (!zone || zone.length > 64 || !zone.split('/').every((p) => part.test(p) && p !== '..')) {
    throw new SetupRequestError('timezone', `not a time zone name such as Europe/Paris: ${text}`);
  }
  return zone;
}

function readEthernet(value: unknown): EthernetSetting {
  const e = value as Record<string, unknown> | null;
  if (e?.mode === 'dhcp') return { mode: 'dhcp' };
  if (e?.mode !== 'static') throw new SetupRequestError('ethernet', 'mode is dhcp or static');
  const address = readAddress(String(e.address ?? ''));
  const gateway = readGateway(String(e.gateway ?? ''));
  const dns = readDnsServers(Array.isArray(e.dns) ? e.dns.map(String) : []);
  return { mode: 'static', address, ...(gateway ? { gateway } : {}), dns };
}

/** A request as the helper receives it: anything not following the rules is refused whole. */
export function parseSetupRequest(value: unknown): SetupRequest {
  const r = value as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null) throw new SetupRequestError('request', 'not an object');
  const id = String(r.id ?? '');
  if (!/^[\w-]{1,64}$/.test(id)) throw new SetupRequestError('id', 'missing or malformed');
  return {
    id,
    ...(r.ethernet !== undefined ? { ethernet: readEthernet(r.ethernet) } : {}),
    ...(r.hostname !== undefined ? { hostname: readHostname(String(r.hostname)) } : {}),
    ...(r.timezone !== undefined ? { timezone: readTimezone(String(r.timezone)) } : {}),
  };
}
