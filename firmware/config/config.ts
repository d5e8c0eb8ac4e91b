// The box's configuration: embedded defaults, one JSON file, validated as a whole before
// anything is applied. A bad file is refused with the key and what is wrong with it.
import { isIP } from 'node:net';
import {
  TLS_PROFILES,
  type NodeTlsConfig,
  type TlsListenerConfig,
  type TlsProfile,
} from './tls-config';
/** Routing criteria (firmware/forward/routing.ts): each a pattern list, all given must match. */
export interface ForwardWhen {
  readonly callingAe?: readonly string[];
  readonly modality?: readonly string[];
  readonly sopClassUid?: readonly string[];
}

export const ROUTING_KEYS = ['callingAe', 'modality', 'sopClassUid'] as const;

/** Lossless re-encoding a node may ask for before sending (firmware/codec). */
export type Compression = 'jpeg-ls-lossless';

/** What every node has, whatever it speaks. */
interface NodeBase {
  readonly name: string;
  readonly forward: boolean;
  /** Routing filter for forwarding (see firmware/forward/routing.ts). */
  readonly forwardWhen?: ForwardWhen;
  /** Bandwidth cap for forwarding to this node, bytes per second. */
  readonly maxBytesPerSecond?: number;
  /**
   * Re-encode uncompressed images losslessly before sending (firmware/codec): the pixels
   * decode to the very same values; promise 2's one deliberate exception.
   */
  readonly compress?: Compression;
}

/** A node that speaks DIMSE: a destination, a caller, a move destination. */
export interface DimseNodeConfig extends NodeBase {
  readonly kind?: 'dimse';
  readonly ae: string;
  readonly host: string;
  readonly port: number;
  /** After forwarding, ask this node for storage commitment and record its answer per instance. */
  readonly requestCommit?: boolean;
  /** Associate with this node over TLS (firmware/tls/tls-options.ts). */
  readonly tls?: NodeTlsConfig;
}

/** How the box proves who it is to a DICOMweb server; the secret is read from a file. */
export type DicomwebAuth =
  | { readonly type: 'basic'; readonly user: string; readonly passwordFile: string }
  | { readonly type: 'bearer'; readonly tokenFile: string };

/** A node reached over HTTP(S) with STOW-RS (PS3.18 §10.5): a forward destination only. */
export interface DicomwebNodeConfig extends NodeBase {
  readonly kind: 'dicomweb';
  /** The service's base URL (".../dicom-web"); instances go to `${url}/studies`. */
  readonly url: string;
  readonly auth?: DicomwebAuth;
  /** Extra request headers (a tenant, an API key header). */
  readonly headers?: Readonly<Record<string, string>>;
  /** HTTPS: the CA to trust, a client certificate (mutual TLS), pinning, the profile. */
  readonly tls?: NodeTlsConfig;
  /** Instances and data set bytes in one request, at most. */
  readonly batch: { readonly maxInstances: number; readonly maxBytes: number };
  /** A request that moves no byte for this long is given up (the destination is down). */
  readonly timeoutSeconds: number;
}

export type NodeConfig = DimseNodeConfig | DicomwebNodeConfig;

export function isDimse(node: NodeConfig): node is DimseNodeConfig {
  return node.kind !== 'dicomweb';
}

/** Where a node is, as the dashboard and the console show it. */
export function nodeAddress(node: NodeConfig): string {
  return isDimse(node) ? `${node.ae}@${node.host}:${node.port}` : node.url;
}

export interface ForwardingConfig {
  /** First retry delay after a transient failure, seconds; doubles up to retryMaxSeconds. */
  readonly retryInitialSeconds: number;
  readonly retryMaxSeconds: number;
  /**
   * While a destination backs off, it is checked this often (C-ECHO, or its QIDO-RS
   * query): the backoff ends the moment it answers, however long it had grown.
   */
  readonly probeSeconds: number;
  /** Instances sent over one association before it is released and a new one opened. */
  readonly instancesPerAssociation: number;
  /** An idle association to a destination is released after this many seconds. */
  readonly idleSeconds: number;
  /**
   * Tries an instance gets when its own transfer fails (abort, reset, timeout) while the
   * destination otherwise works; between tries it is set aside, then it fails for good.
   */
  readonly instanceAttempts: number;
}

export interface Config {
  readonly ae: string;
  /** The plain DICOM port; 0: none, the TLS listener only (`tls`). */
  readonly port: number;
  /** Listening address; all interfaces by default. */
  readonly host: string;
  readonly storageDir: string;
  readonly acceptUnknownCallers: boolean;
  /** Reject an A-ASSOCIATE-RQ whose called AE title is not ours (default: accept any). */
  readonly strictCalledAe: boolean;
  /** Our Maximum Length Received for P-DATA-TF (PS3.8 D.1). */
  readonly maxPduLength: number;
  /** Established associations at once (connections still negotiating do not count). */
  readonly maxAssociations: number;
  /** ARTIM timer (PS3.8 §9.1.5), seconds. */
  readonly artimTimeout: number;
  /** Seconds a new connection has to send its A-ASSOCIATE-RQ before it is closed. */
  readonly associateTimeout: number;
  /** Connections not yet associated, at once; beyond this the oldest is closed. */
  readonly maxUnassociated: number;
  /** The same, from one address: a scanner or a broken device only crowds out itself. */
  readonly maxUnassociatedPerAddress: number;
  /** An association silent this many seconds with no operation under way is aborted (0: never). */
  readonly idleTimeout: number;
  readonly forwarding: ForwardingConfig;
  /**
   * When the box commits to keeping an instance (Storage Commitment, PS3.4 Annex J):
   * "stored" once it is durable in the cache, "forwarded" once every forward destination
   * has it. Unset: "forwarded" when any node forwards, else "stored".
   */
  readonly commit?: 'stored' | 'forwarded';
  /** A commitment still undecided after this long is reported with the missing items failed. */
  readonly commitTimeoutSeconds: number;
  /**
   * An instance a commitment names that is not in the cache is reported failed after this
   * long (a C-STORE of it may still be in flight on another association).
   */
  readonly commitGraceSeconds: number;
  /** Disk use, in percent, from which the cache is reported as nearly full. */
  readonly cacheWarnPercent: number;
  /** When studies are evicted, and when C-STORE is refused (storage/evictor.ts). */
  readonly cache: CacheConfig;
  /** Prometheus metrics, /healthz and /readyz over HTTP (firmware/metrics/). */
  readonly metrics: MetricsConfig;
  readonly nodes: readonly NodeConfig[];
  /** A line console on a serial port (firmware/ui-tty/serial-console.ts). */
  readonly serial?: SerialConfig;
  /** A DICOM TLS listener beside the plain one (firmware/tls/). */
  readonly tls?: TlsListenerConfig;
}

export interface CacheConfig {
  /** Above this disk use (percent) studies are evicted, least recently used first… */
  readonly evictAbovePercent: number;
  /** …until the disk use is at or below this. */
  readonly evictToPercent: number;
  /**
   * Free space kept for the index, its WAL and the instances in flight: below it (with
   * nothing left to evict) C-STORE is answered A700, before the disk is actually full.
   */
  readonly minFreeBytes: number;
  /** Under pressure, studies used in the last keepDays go only when older ones are gone (0: off). */
  readonly keepDays: number;
  /** Studies not used for maxAgeDays are evicted even without pressure (0: off). */
  readonly maxAgeDays: number;
  /** A study received or retrieved this recently is in use: never evicted (a study arriving). */
  readonly inUseSeconds: number;
}

export interface MetricsConfig {
  /** The HTTP port of /metrics, /healthz and /readyz; 0 (the default) serves none. */
  readonly port: number;
  /** Its listening address: this machine only, unless set to an interface's address. */
  readonly host: string;
}

export interface SerialConfig {
  readonly path: string;
  readonly baudRate: number;
}

/** The rates a Linux serial port (termios) can be set to, up to 4 Mbit/s. */
export const BAUD_RATES = [
  1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 1500000,
  2000000, 3000000, 4000000,
] as const;

export const DEFAULTS: Config = {
  ae: 'DICOM_EDGE',
  port: 11112,
  host: '0.0.0.0',
  storageDir: './var',
  acceptUnknownCallers: true,
  strictCalledAe: false,
  maxPduLength: 262144,
  maxAssociations: 32,
  artimTimeout: 30,
  associateTimeout: 10,
  maxUnassociated: 32,
  maxUnassociatedPerAddress: 8,
  idleTimeout: 120,
  forwarding: {
    retryInitialSeconds: 5,
    retryMaxSeconds: 600,
    probeSeconds: 2,
    instancesPerAssociation: 1000,
    idleSeconds: 10,
    instanceAttempts: 3,
  },
  commitTimeoutSeconds: 86400,
  commitGraceSeconds: 5,
  cacheWarnPercent: 85,
  cache: {
    evictAbovePercent: 90,
    evictToPercent: 80,
    minFreeBytes: 256 * 1024 * 1024,
    keepDays: 0,
    maxAgeDays: 0,
    inUseSeconds: 60,
  },
  metrics: { port: 0, host: '127.0.0.1' },
  nodes: [],
};

/** The commit policy in force (see Config.commit). */
export function commitPolicy(config: Config): 'stored' | 'forwarded' {
  return config.commit ?? (config.nodes.some((n) => n.forward) ? 'forwarded' : 'stored');
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`config key "${key}": ${problem}`);
  }
}

/** A node named (on the command line, the console, a control request) that is not configured. */
export class UnknownNodeError extends Error {
  override name = 'UnknownNodeError';
  constructor(
    readonly node: string,
    nodes: ReadonlyArray<{ readonly name?: unknown }>,
  ) {
    super(
      `no node named "${node}" (${nodes.map((n) => String(n.name)).join(', ') || 'no nodes are configured'})`,
    );
  }
}

/** AE titles: 1-16 characters of the default repertoire, no backslash or control characters (PS3.5 §6.2). */
export function aeTitleProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.trim().length === 0) return 'must not be empty or all spaces';
  if (value.length > 16) return 'must be at most 16 characters';
  if (!/^[\x20-\x7e]+$/.test(value) || value.includes('\\')) {
    return 'may only hold printable ASCII characters other than backslash';
  }
  return undefined;
}

/**
 * A host: an IPv4 or IPv6 address, or a DNS name of RFC 1123 labels (letters, digits and
 * inner hyphens, 1-63 each, 253 in all) whose last label is not all digits (RFC 3696 §2).
 * That last rule is what refuses "1424" or "10.1.2": the resolver would read them as the
 * address 0.0.5.144 or 10.1.0.2 (inet_aton's short forms) and call a stranger.
 */
export function hostProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string: a DNS name or an IP address';
  if (value.length === 0) return 'must not be empty: a DNS name or an IP address';
  if (isIP(value) !== 0) return undefined;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const labels = name.split('.');
  if (name.length > 253) return 'must be a DNS name of at most 253 characters';
  if (labels.some((l) => l.length > 63))
    return 'must be a DNS name, each label of at most 63 characters';
  const isLabel = (l: string): boolean => /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l);
  if (!labels.every(isLabel) || /^[0-9]+$/.test(labels[labels.length - 1]!))
    return `must be a DNS name or an IP address, not ${JSON.stringify(value)}`;
  return undefined;
}

function requireHost(key: string, value: unknown): asserts value is string {
  const problem = hostProblem(value);
  if (problem) throw new ConfigError(key, problem);
}

function requireType(key: string, value: unknown, type: 'string' | 'boolean'): void {
  if (typeof value !== type) throw new ConfigError(key, `must be a ${type}`);
}

function requireInt(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(key, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function requireSeconds(key: string, value: unknown, max: number): void {
  if (typeof value !== 'number' || !(value > 0) || value > max) {
    throw new ConfigError(key, `must be a number of seconds above 0 and at most ${max}`);
  }
}

const KEYS = new Set([...Object.keys(DEFAULTS), 'commit', 'serial', 'tls']);

/** Validates a parsed JSON document and merges it over the defaults. Throws ConfigError. */
export function validateConfig(raw: unknown): Config {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('(top level)', 'must be a JSON object');
  }
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!KEYS.has(key)) throw new ConfigError(key, 'is not a known setting');
  }
  const c: Record<string, unknown> = { ...DEFAULTS, ...input };
  const aeProblem = aeTitleProblem(c.ae);
  if (aeProblem) throw new ConfigError('ae', aeProblem);
  requireInt('port', c.port, 0, 65535);
  requireHost('host', c.host);
  requireType('storageDir', c.storageDir, 'string');
  if ((c.storageDir as string).length === 0)
    throw new ConfigError('storageDir', 'must not be empty');
  requireType('acceptUnknownCallers', c.acceptUnknownCallers, 'boolean');
  requireType('strictCalledAe', c.strictCalledAe, 'boolean');
  requireInt('maxPduLength', c.maxPduLength, 4096, 16 * 1024 * 1024);
  requireInt('maxAssociations', c.maxAssociations, 1, 1000);
  requireSeconds('artimTimeout', c.artimTimeout, 3600);
  requireSeconds('associateTimeout', c.associateTimeout, 3600);
  requireInt('maxUnassociated', c.maxUnassociated, 1, 10000);
  requireInt('maxUnassociatedPerAddress', c.maxUnassociatedPerAddress, 1, 10000);
  if (typeof c.idleTimeout !== 'number' || !(c.idleTimeout >= 0) || c.idleTimeout > 7 * 86400) {
    throw new ConfigError('idleTimeout', 'must be a number of seconds from 0 (never) to 7 days');
  }
  const forwarding = validateForwarding(c.forwarding);
  if (c.commit !== undefined && c.commit !== 'stored' && c.commit !== 'forwarded') {
    throw new ConfigError('commit', 'must be "stored" or "forwarded"');
  }
  if (
    typeof c.commitTimeoutSeconds !== 'number' ||
    !(c.commitTimeoutSeconds > 0) ||
    c.commitTimeoutSeconds > 30 * 86400
  ) {
    throw new ConfigError(
      'commitTimeoutSeconds',
      'must be a number of seconds above 0 and at most 30 days',
    );
  }
  requireSeconds('commitGraceSeconds', c.commitGraceSeconds, 3600);
  requireInt('cacheWarnPercent', c.cacheWarnPercent, 10, 99);
  const cache = validateCache(c.cache);
  const metrics = validateMetrics(c.metrics);
  if (!Array.isArray(c.nodes)) throw new ConfigError('nodes', 'must be an array');
  const names = new Set<string>();
  const nodes = (c.nodes as unknown[]).map((n, i): NodeConfig => {
    const at = `nodes[${i}]`;
    if (typeof n !== 'object' || n === null || Array.isArray(n))
      throw new ConfigError(at, 'must be an object');
    const node = n as Record<string, unknown>;
    if (node.kind !== undefined && node.kind !== 'dimse' && node.kind !== 'dicomweb')
      throw new ConfigError(`${at}.kind`, 'must be "dimse" (the default) or "dicomweb"');
    const keys = node.kind === 'dicomweb' ? DICOMWEB_NODE_KEYS : NODE_KEYS;
    for (const key of Object.keys(node)) {
      if (!keys.includes(key)) throw new ConfigError(`${at}.${key}`, 'is not a known setting');
    }
    if (typeof node.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(node.name)) {
      throw new ConfigError(`${at}.name`, 'must be 1-64 letters, digits, "_", "." or "-"');
    }
    if (names.has(node.name))
      throw new ConfigError(`${at}.name`, `"${node.name}" is used by another node`);
    names.add(node.name);
    if (node.forward !== undefined) requireType(`${at}.forward`, node.forward, 'boolean');
    const forwardWhen =
      node.forwardWhen === undefined
        ? undefined
        : validateForwardWhen(`${at}.forwardWhen`, node.forwardWhen);
    const tls = node.tls === undefined ? undefined : validateNodeTls(`${at}.tls`, node.tls);
    const maxBytesPerSecond =
      node.maxBytesPerSecond === undefined
        ? undefined
        : requireInt(`${at}.maxBytesPerSecond`, node.maxBytesPerSecond, 1024, 10 * 1024 ** 3);
    if (
      node.compress !== undefined &&
      !(COMPRESSIONS as readonly unknown[]).includes(node.compress)
    )
      throw new ConfigError(`${at}.compress`, `must be one of ${COMPRESSIONS.join(', ')}`);
    const name = node.name;
    const base = {
      forward: node.forward === true,
      ...(node.compress ? { compress: node.compress as Compression } : {}),
      ...(forwardWhen ? { forwardWhen } : {}),
      ...(maxBytesPerSecond ? { maxBytesPerSecond } : {}),
      ...(tls ? { tls } : {}),
    };
    if (node.kind === 'dicomweb') {
      const { kind, url, ...web } = validateDicomwebNode(at, node);
      return { name, kind, url, ...base, ...web };
    }
    const p = aeTitleProblem(node.ae);
    if (p) throw new ConfigError(`${at}.ae`, p);
    requireHost(`${at}.host`, node.host);
    const port = requireInt(`${at}.port`, node.port, 1, 65535);
    if (node.requestCommit !== undefined)
      requireType(`${at}.requestCommit`, node.requestCommit, 'boolean');
    // In the order an operator reads a node: who and where first.
    return {
      name,
      ae: node.ae as string,
      host: node.host,
      port,
      ...base,
      ...(node.requestCommit === true ? { requestCommit: true } : {}),
    };
  });
  const serial = c.serial === undefined ? undefined : validateSerial(c.serial);
  const tls = c.tls === undefined ? undefined : validateListenerTls(c.tls);
  if (tls && tls.port === c.port)
    throw new ConfigError('tls.port', 'must differ from port (the plain listener)');
  if (c.port === 0 && !tls)
    throw new ConfigError('port', 'may be 0 (no plain listener) only with a TLS listener (tls)');
  return {
    ...(c as unknown as Config),
    forwarding,
    cache,
    metrics,
    nodes,
    ...(serial ? { serial } : {}),
    ...(tls ? { tls } : {}),
  };
}

function validateSerial(raw: unknown): SerialConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(
      'serial',
      'must be an object like {"path": "/dev/serial0", "baudRate": 115200}',
    );
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (key !== 'path' && key !== 'baudRate')
      throw new ConfigError(`serial.${key}`, 'is not a known setting');
  }
  if (typeof s.path !== 'string' || !s.path.startsWith('/') || s.path.includes('\0'))
    throw new ConfigError('serial.path', 'must be an absolute device path such as /dev/serial0');
  const baudRate = s.baudRate ?? 115200;
  if (!(BAUD_RATES as readonly unknown[]).includes(baudRate))
    throw new ConfigError('serial.baudRate', `must be one of ${BAUD_RATES.join(', ')}`);
  return { path: s.path, baudRate: baudRate as number };
}

const COMPRESSIONS: readonly Compression[] = ['jpeg-ls-lossless'];

const NODE_KEYS = [
  'compress',
  'name',
  'kind',
  'ae',
  'host',
  'port',
  'forward',
  'forwardWhen',
  'maxBytesPerSecond',
  'requestCommit',
  'tls',
];

const DICOMWEB_NODE_KEYS = [
  'compress',
  'name',
  'kind',
  'url',
  'forward',
  'forwardWhen',
  'maxBytesPerSecond',
  'auth',
  'headers',
  'tls',
  'batch',
  'timeoutSeconds',
];

/** A STOW-RS request: up to 50 instances or 64 MB of data sets (a CT series in a few). */
export const DICOMWEB_BATCH_DEFAULTS = { maxInstances: 50, maxBytes: 64 * 1024 * 1024 };

/** The settings only a DICOMweb node has (the common ones are checked by the caller). */
function validateDicomwebNode(
  at: string,
  node: Record<string, unknown>,
): Omit<DicomwebNodeConfig, keyof NodeBase | 'tls'> {
  let url: URL;
  try {
    url = new URL(String(node.url));
  } catch {
    throw new ConfigError(`${at}.url`, 'must be an http:// or https:// URL (".../dicom-web")');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError(`${at}.url`, 'must be an http:// or https:// URL (".../dicom-web")');
  if (url.search || url.hash || url.username || url.password)
    throw new ConfigError(
      `${at}.url`,
      'must hold no query, fragment or credentials (credentials go in auth)',
    );
  if (node.tls !== undefined && url.protocol !== 'https:')
    throw new ConfigError(`${at}.tls`, 'needs an https:// url');
  const headers =
    node.headers === undefined ? undefined : validateHeaders(`${at}.headers`, node.headers);
  const auth = node.auth === undefined ? undefined : validateAuth(`${at}.auth`, node.auth);
  const batch = section(`${at}.batch`, node.batch ?? {}, DICOMWEB_BATCH_DEFAULTS);
  requireInt(`${at}.batch.maxInstances`, batch.maxInstances, 1, 1000);
  requireInt(`${at}.batch.maxBytes`, batch.maxBytes, 1024 * 1024, 4 * 1024 ** 3);
  const timeoutSeconds = node.timeoutSeconds ?? 60;
  requireSeconds(`${at}.timeoutSeconds`, timeoutSeconds, 3600);
  return {
    kind: 'dicomweb',
    url: url.href.replace(/\/+$/, ''),
    ...(auth ? { auth } : {}),
    ...(headers ? { headers } : {}),
    batch: batch as DicomwebNodeConfig['batch'],
    timeoutSeconds: timeoutSeconds as number,
  };
}

function validateAuth(at: string, raw: unknown): DicomwebAuth {
  const a = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const file = (key: string): string => {
    const v = a[key];
    if (typeof v !== 'string' || !v.startsWith('/'))
      throw new ConfigError(`${at}.${key}`, 'must be the absolute path of a file holding it');
    return v;
  };
  const only = (keys: string[]): void => {
    for (const key of Object.keys(a))
      if (!keys.includes(key)) throw new ConfigError(`${at}.${key}`, 'is not a known setting');
  };
  if (a.type === 'basic') {
    only(['type', 'user', 'passwordFile']);
    if (typeof a.user !== 'string' || a.user === '' || a.user.includes(':'))
      throw new ConfigError(`${at}.user`, 'must be a user name without ":"');
    return { type: 'basic', user: a.user, passwordFile: file('passwordFile') };
  }
  if (a.type === 'bearer') {
    only(['type', 'tokenFile']);
    return { type: 'bearer', tokenFile: file('tokenFile') };
  }
  throw new ConfigError(
    `${at}.type`,
    'must be "basic" (user, passwordFile) or "bearer" (tokenFile)',
  );
}

function validateHeaders(at: string, raw: unknown): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(at, 'must be an object of header names and values');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name))
      throw new ConfigError(`${at}.${name}`, 'is not a header name');
    if (
      ['content-type', 'content-length', 'transfer-encoding', 'host', 'authorization'].includes(
        name.toLowerCase(),
      )
    )
      throw new ConfigError(`${at}.${name}`, 'is set by the box (authorization: use auth)');
    if (typeof value !== 'string' || /[\r\n\0]/.test(value))
      throw new ConfigError(`${at}.${name}`, 'must be text on one line');
    out[name] = value;
  }
  return out;
}

/**
 * A section of settings (forwarding, cache, metrics): an object of known keys only,
 * merged over its defaults.
 */
function section(
  name: string,
  raw: unknown,
  defaults: object,
  example = '',
): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(name, `must be an object${example ? ` like ${example}` : ''}`);
  }
  for (const key of Object.keys(raw)) {
    if (!(key in defaults)) throw new ConfigError(`${name}.${key}`, 'is not a known setting');
  }
  return { ...defaults, ...(raw as Record<string, unknown>) };
}

function validateForwarding(raw: unknown): ForwardingConfig {
  const f = section('forwarding', raw, DEFAULTS.forwarding);
  const seconds = (key: string, max: number): number => {
    const v = f[key];
    if (typeof v !== 'number' || !(v > 0) || v > max) {
      throw new ConfigError(
        `forwarding.${key}`,
        `must be a number of seconds above 0 and at most ${max}`,
      );
    }
    return v;
  };
  const retryInitialSeconds = seconds('retryInitialSeconds', 86400);
  const retryMaxSeconds = seconds('retryMaxSeconds', 86400);
  if (retryMaxSeconds < retryInitialSeconds) {
    throw new ConfigError('forwarding.retryMaxSeconds', 'must not be below retryInitialSeconds');
  }
  return {
    retryInitialSeconds,
    retryMaxSeconds,
    probeSeconds: seconds('probeSeconds', 3600),
    instancesPerAssociation: requireInt(
      'forwarding.instancesPerAssociation',
      f.instancesPerAssociation,
      1,
      1_000_000,
    ),
    idleSeconds: seconds('idleSeconds', 86400),
    instanceAttempts: requireInt('forwarding.instanceAttempts', f.instanceAttempts, 1, 100),
  };
}

function validateCache(raw: unknown): CacheConfig {
  const f = section('cache', raw, DEFAULTS.cache);
  const evictAbovePercent = requireInt('cache.evictAbovePercent', f.evictAbovePercent, 2, 99);
  const evictToPercent = requireInt('cache.evictToPercent', f.evictToPercent, 1, 98);
  if (evictToPercent >= evictAbovePercent)
    throw new ConfigError('cache.evictToPercent', 'must be below cache.evictAbovePercent');
  return {
    evictAbovePercent,
    evictToPercent,
    minFreeBytes: requireInt('cache.minFreeBytes', f.minFreeBytes, 0, Number.MAX_SAFE_INTEGER),
    keepDays: requireInt('cache.keepDays', f.keepDays, 0, 36500),
    maxAgeDays: requireInt('cache.maxAgeDays', f.maxAgeDays, 0, 36500),
    inUseSeconds: requireInt('cache.inUseSeconds', f.inUseSeconds, 1, 86400),
  };
}

function validateMetrics(raw: unknown): MetricsConfig {
  const m = section('metrics', raw, DEFAULTS.metrics, '{"port": 9464}');
  const port = requireInt('metrics.port', m.port, 0, 65535);
  requireHost('metrics.host', m.host);
  return { port, host: m.host };
}

function pemFile(key: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('\0'))
    throw new ConfigError(key, 'must be the absolute path of a PEM file');
  return value;
}

function optionalPem(key: string, value: unknown): string | undefined {
  return value === undefined ? undefined : pemFile(key, value);
}

function tlsProfile(key: string, value: unknown): TlsProfile {
  if (value === undefined) return 'bcp195-nd';
  if (!(TLS_PROFILES as readonly unknown[]).includes(value))
    throw new ConfigError(key, `must be one of ${TLS_PROFILES.join(', ')}`);
  return value as TlsProfile;
}

const LISTENER_TLS_KEYS = [
  'port',
  'certificate',
  'privateKey',
  'trustedCertificates',
  'clientCertificates',
  'profile',
];

function validateListenerTls(raw: unknown): TlsListenerConfig {
  const t = section(
    'tls',
    raw,
    Object.fromEntries(LISTENER_TLS_KEYS.map((k) => [k, undefined])),
    '{"port": 2762, "certificate": "/etc/dicom-edge/box.crt", "privateKey": "/etc/dicom-edge/box.key"}',
  );
  const clientCertificates = t.clientCertificates ?? 'required';
  if (clientCertificates !== 'required' && clientCertificates !== 'optional')
    throw new ConfigError('tls.clientCertificates', 'must be "required" or "optional"');
  const trustedCertificates = optionalPem('tls.trustedCertificates', t.trustedCertificates);
  if (clientCertificates === 'required' && !trustedCertificates)
    throw new ConfigError(
      'tls.trustedCertificates',
      'is needed to check client certificates (or set tls.clientCertificates to "optional")',
    );
  return {
    port: requireInt('tls.port', t.port, 1, 65535),
    certificate: pemFile('tls.certificate', t.certificate),
    privateKey: pemFile('tls.privateKey', t.privateKey),
    ...(trustedCertificates ? { trustedCertificates } : {}),
    clientCertificates,
    profile: tlsProfile('tls.profile', t.profile),
  };
}

const NODE_TLS_KEYS = [
  'trustedCertificates',
  'certificate',
  'privateKey',
  'serverName',
  'pinnedSha256',
  'profile',
];

function validateNodeTls(at: string, raw: unknown): NodeTlsConfig {
  const t = section(
    at,
    raw,
    Object.fromEntries(NODE_TLS_KEYS.map((k) => [k, undefined])),
    '{"trustedCertificates": "/etc/dicom-edge/pacs-ca.crt"}',
  );
  const certificate = optionalPem(`${at}.certificate`, t.certificate);
  const privateKey = optionalPem(`${at}.privateKey`, t.privateKey);
  if ((certificate === undefined) !== (privateKey === undefined))
    throw new ConfigError(`${at}.privateKey`, 'and certificate go together');
  const trustedCertificates = optionalPem(`${at}.trustedCertificates`, t.trustedCertificates);
  if (t.serverName !== undefined && (typeof t.serverName !== 'string' || t.serverName === ''))
    throw new ConfigError(`${at}.serverName`, 'must be a host name');
  if (
    t.pinnedSha256 !== undefined &&
    (typeof t.pinnedSha256 !== 'string' ||
      t.pinnedSha256.replace(/[^0-9a-fA-F]/g, '').length !== 64)
  )
    throw new ConfigError(`${at}.pinnedSha256`, 'must be a SHA-256 fingerprint (64 hex digits)');
  return {
    ...(trustedCertificates ? { trustedCertificates } : {}),
    ...(certificate ? { certificate } : {}),
    ...(privateKey ? { privateKey } : {}),
    ...(typeof t.serverName === 'string' ? { serverName: t.serverName } : {}),
    ...(typeof t.pinnedSha256 === 'string' ? { pinnedSha256: t.pinnedSha256 } : {}),
    profile: tlsProfile(`${at}.profile`, t.profile),
  };
}

function validateForwardWhen(at: string, raw: unknown): ForwardWhen {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(at, 'must be an object');
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(ROUTING_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(
        `${at}.${key}`,
        `is not a routing criterion (use ${ROUTING_KEYS.join(', ')})`,
      );
    }
    const list: unknown = typeof value === 'string' ? [value] : value;
    const ok =
      Array.isArray(list) &&
      list.length > 0 &&
      list.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 64);
    if (!ok)
      throw new ConfigError(
        `${at}.${key}`,
        'must be a pattern or a non-empty list of patterns (* and ? are wildcards)',
      );
    out[key] = list as string[];
  }
  return out as ForwardWhen;
}
