// The box's configuration: every key declared once below, with its type, its default and
// its check (the schema language is schema.ts, the checks of our kinds of value checks.ts).
// The types, DEFAULTS and validateConfig all come from these declarations. A file is
// validated as a whole before anything is applied: a bad one is refused with the key's
// path and what is wrong with it.
import {
  absolutePath,
  aeTitle,
  host,
  httpHeaders,
  httpUrl,
  nodeName,
  nonEmptyText,
  patternList,
} from './checks';
import { bool, int, list, object, oneOf, rule, seconds, variants, type Infer } from './schema';
import { nodeTlsSchema, tlsListenerSchema } from './tls-config';
import { worklistSchema } from './worklist-config';

export { ConfigError } from './schema';
export { aeTitleProblem, hostProblem } from './checks';
export type { WorklistCheckConfig, WorklistConfig, WorklistQueryConfig } from './worklist-config';

const DAY = 86400;
const MB = 1024 * 1024;

/** Routing criteria (firmware/forward/routing.ts): each a pattern list, all given must match. */
const forwardWhen = object(
  {
    callingAe: patternList.optional(),
    modality: patternList.optional(),
    sopClassUid: patternList.optional(),
  },
  { unknownKey: (_, known) => `is not a routing criterion (use ${known.join(', ')})` },
);
export type ForwardWhen = Infer<typeof forwardWhen>;

/** Lossless re-encodings a node may ask for before sending (firmware/codec). */
const COMPRESSIONS = ['jpeg-ls-lossless'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** What every node has, whatever it speaks. */
const nodeBase = {
  forward: bool().default(false),
  /**
   * Re-encode uncompressed images losslessly before sending (firmware/codec): the pixels
   * decode to the very same values; promise 2's one deliberate exception.
   */
  compress: oneOf(COMPRESSIONS).optional(),
  /** Routing filter for forwarding (see firmware/forward/routing.ts). */
  forwardWhen: forwardWhen.optional(),
  /** Bandwidth cap for forwarding to this node, bytes per second. */
  maxBytesPerSecond: int(1024, 10 * 1024 ** 3).optional(),
  /** Associate with this node over TLS, or HTTPS settings (firmware/tls/tls-options.ts). */
  tls: nodeTlsSchema.optional(),
};

/**
 * How many C-STOREs a DIMSE destination gets at once when its node does not say: four
 * associations (a round trip of 50 ms then carries four instances, not one), each with up
 * to eight requests outstanding where the destination grants an operations window.
 */
export const FORWARD_PARALLELISM = { associations: 4, asyncOperations: 8 } as const;

/** A node that speaks DIMSE: a destination, a caller, a move destination. */
const dimseNode = object({
  name: nodeName,
  // The default kind: said or not, a DIMSE node holds none.
  kind: oneOf(['dimse'])
    .to(() => undefined)
    .optional(),
  // In the order an operator reads a node: who and where first.
  ae: aeTitle,
  host,
  port: int(1, 65535),
  ...nodeBase,
  /** After forwarding, ask this node for storage commitment and record its answer per instance. */
  requestCommit: bool()
    .to((v) => v || undefined)
    .optional(),
  /** The box replicates this node's Modality Worklist (firmware/worklist/); one node at most. */
  worklistSource: bool()
    .to((v) => v || undefined)
    .optional(),
  /**
   * Associations the box forwards over at once (firmware/forward/association-pool.ts): on a
   * far WAN one association waits a round trip per instance, several fill the link. 1 for
   * a PACS that takes only one; one that refuses more is used with fewer, not failed.
   * Absent: FORWARD_PARALLELISM's.
   */
  associations: int(1, 16).optional(),
  /**
   * C-STOREs outstanding at once on each association, proposed as an Asynchronous
   * Operations Window (PS3.7 D.3.3.3) and used where the destination grants it; 1
   * proposes none (for a peer that stumbles on the item). Absent: FORWARD_PARALLELISM's.
   */
  asyncOperations: int(1, 64).optional(),
});
export type DimseNodeConfig = Infer<typeof dimseNode>;

const secretFile = absolutePath('must be the absolute path of a file holding it');

/** How the box proves who it is to a DICOMweb server; the secret is read from a file. */
const dicomwebAuth = variants(
  'type',
  {
    basic: object({
      type: oneOf(['basic']),
      user: rule<string>((v) =>
        typeof v === 'string' && v !== '' && !v.includes(':')
          ? undefined
          : 'must be a user name without ":"',
      ),
      passwordFile: secretFile,
    }),
    bearer: object({ type: oneOf(['bearer']), tokenFile: secretFile }),
  },
  { problem: 'must be "basic" (user, passwordFile) or "bearer" (tokenFile)' },
);
export type DicomwebAuth = Infer<typeof dicomwebAuth>;

/** A node reached over HTTP(S) with STOW-RS (PS3.18 §10.5): a forward destination only. */
const dicomwebNode = object(
  {
    name: nodeName,
    kind: oneOf(['dicomweb']),
    /** The service's base URL (".../dicom-web"); instances go to `${url}/studies`. */
    url: httpUrl,
    ...nodeBase,
    auth: dicomwebAuth.optional(),
    /** Extra request headers (a tenant, an API key header). */
    headers: httpHeaders.optional(),
    /** Instances and data set bytes in one request, at most: a CT series in a few. */
    batch: object({
      maxInstances: int(1, 1000).default(50),
      maxBytes: int(MB, 4 * 1024 ** 3).default(64 * MB),
    }).defaults(),
    /** A request that moves no byte for this long is given up (the destination is down). */
    timeoutSeconds: seconds(3600).default(60),
  },
  {
    rules: [
      (n) =>
        n.tls !== undefined && !n.url.startsWith('https:')
          ? ['tls', 'needs an https:// url']
          : undefined,
    ],
  },
);
export type DicomwebNodeConfig = Infer<typeof dicomwebNode>;

export type NodeConfig = DimseNodeConfig | DicomwebNodeConfig;

const node = variants(
  'kind',
  { dimse: dimseNode, dicomweb: dicomwebNode },
  { absent: 'dimse', problem: 'must be "dimse" (the default) or "dicomweb"' },
);

const forwarding = object(
  {
    /** First retry delay after a transient failure, seconds; doubles up to retryMaxSeconds. */
    retryInitialSeconds: seconds(DAY).default(5),
    retryMaxSeconds: seconds(DAY).default(600),
    /**
     * While a destination backs off, it is checked this often (C-ECHO, or its QIDO-RS
     * query): the backoff ends the moment it answers, however long it had grown.
     */
    probeSeconds: seconds(3600).default(2),
    /** Instances sent over one association before it is released and a new one opened. */
    instancesPerAssociation: int(1, 1_000_000).default(1000),
    /** An idle association to a destination is released after this many seconds. */
    idleSeconds: seconds(DAY).default(10),
    /**
     * Tries an instance gets when its own transfer fails (abort, reset, timeout) while the
     * destination otherwise works; between tries it is set aside, then it fails for good.
     */
    instanceAttempts: int(1, 100).default(3),
  },
  {
    rules: [
      (f, given) => {
        if (f.retryMaxSeconds >= f.retryInitialSeconds) return undefined;
        // The key the file sets is the one named: retryInitialSeconds=1000 alone is refused as that.
        return given('retryInitialSeconds') && !given('retryMaxSeconds')
          ? ['retryInitialSeconds', `must not be above retryMaxSeconds (${f.retryMaxSeconds})`]
          : ['retryMaxSeconds', 'must not be below retryInitialSeconds'];
      },
    ],
  },
);
export type ForwardingConfig = Infer<typeof forwarding>;

/** When studies are evicted, and when C-STORE is refused (storage/evictor.ts). */
const cache = object(
  {
    /** Above this disk use (percent) studies are evicted, least recently used first… */
    evictAbovePercent: int(2, 99).default(90),
    /** …until the disk use is at or below this. */
    evictToPercent: int(1, 98).default(80),
    /**
     * Free space kept for the index, its WAL and the instances in flight: below it (with
     * nothing left to evict) C-STORE is answered A700, before the disk is actually full.
     */
    minFreeBytes: int(0, Number.MAX_SAFE_INTEGER).default(256 * MB),
    /** Under pressure, studies used in the last keepDays go only when older ones are gone (0: off). */
    keepDays: int(0, 36500).default(0),
    /** Studies not used for maxAgeDays are evicted even without pressure (0: off). */
    maxAgeDays: int(0, 36500).default(0),
    /** A study received or retrieved this recently is in use: never evicted (a study arriving). */
    inUseSeconds: int(1, DAY).default(60),
  },
  {
    rules: [
      (c, given) => {
        if (c.evictToPercent < c.evictAbovePercent) return undefined;
        // The key the file sets is the one named: evictAbovePercent=70 alone is refused as that.
        return given('evictAbovePercent') && !given('evictToPercent')
          ? ['evictAbovePercent', `must be above cache.evictToPercent (${c.evictToPercent})`]
          : ['evictToPercent', 'must be below cache.evictAbovePercent'];
      },
    ],
  },
);
export type CacheConfig = Infer<typeof cache>;

/** Prometheus metrics, /healthz and /readyz over HTTP (firmware/metrics/). */
const metrics = object(
  {
    /** The HTTP port of /metrics, /healthz and /readyz; 0 (the default) serves none. */
    port: int(0, 65535).default(0),
    /** Its listening address: this machine only, unless set to an interface's address. */
    host: host.default('127.0.0.1'),
  },
  { example: '{"port": 9464}' },
);
export type MetricsConfig = Infer<typeof metrics>;

/** The rates a Linux serial port (termios) can be set to, up to 4 Mbit/s. */
export const BAUD_RATES = [
  1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 1500000,
  2000000, 3000000, 4000000,
] as const;

/** A line console on a serial port (firmware/ui-tty/serial-console.ts). */
const serial = object(
  {
    path: absolutePath('must be an absolute device path such as /dev/serial0'),
    baudRate: oneOf(BAUD_RATES).default(115200),
  },
  { example: '{"path": "/dev/serial0", "baudRate": 115200}' },
);
export type SerialConfig = Infer<typeof serial>;

const configSchema = object(
  {
    ae: aeTitle.default('DICOM_EDGE'),
    /** The plain DICOM port; 0: none, the TLS listener only (`tls`). */
    port: int(0, 65535).default(11112),
    /** Listening address; all interfaces by default. */
    host: host.default('0.0.0.0'),
    storageDir: nonEmptyText.default('./var'),
    acceptUnknownCallers: bool().default(true),
    /** Reject an A-ASSOCIATE-RQ whose called AE title is not ours (default: accept any). */
    strictCalledAe: bool().default(false),
    /** Our Maximum Length Received for P-DATA-TF (PS3.8 D.1). */
    maxPduLength: int(4096, 16 * MB).default(262144),
    /** Established associations at once (connections still negotiating do not count). */
    maxAssociations: int(1, 1000).default(32),
    /** ARTIM timer (PS3.8 §9.1.5), seconds. */
    artimTimeout: seconds(3600).default(30),
    /** Seconds a new connection has to send its A-ASSOCIATE-RQ before it is closed. */
    associateTimeout: seconds(3600).default(10),
    /** Connections not yet associated, at once; beyond this the oldest is closed. */
    maxUnassociated: int(1, 10000).default(32),
    /** The same, from one address: a scanner or a broken device only crowds out itself. */
    maxUnassociatedPerAddress: int(1, 10000).default(8),
    /** An association silent this many seconds with no operation under way is aborted (0: never). */
    idleTimeout: seconds(7 * DAY, { upTo: '7 days', zeroMeans: 'never' }).default(120),
    forwarding: forwarding.defaults(),
    /**
     * When the box commits to keeping an instance (Storage Commitment, PS3.4 Annex J):
     * "stored" once it is durable in the cache, "forwarded" once every forward destination
     * has it. Unset: "forwarded" when any node forwards, else "stored".
     */
    commit: oneOf(['stored', 'forwarded'], 'must be "stored" or "forwarded"').optional(),
    /** A commitment still undecided after this long is reported with the missing items failed. */
    commitTimeoutSeconds: seconds(30 * DAY, { upTo: '30 days' }).default(DAY),
    /**
     * An instance a commitment names that is not in the cache is reported failed after this
     * long (a C-STORE of it may still be in flight on another association).
     */
    commitGraceSeconds: seconds(3600).default(5),
    /** Disk use, in percent, from which the cache is reported as nearly full. */
    cacheWarnPercent: int(10, 99).default(85),
    cache: cache.defaults(),
    metrics: metrics.defaults(),
    nodes: list(node, {
      key: 'name',
      problem: (name) => `"${name}" is used by another node`,
    }).default([]),
    serial: serial.optional(),
    /** A DICOM TLS listener beside the plain one (firmware/tls/). */
    tls: tlsListenerSchema.optional(),
    /** The modality worklist kept from the node marked worklistSource (firmware/worklist/). */
    worklist: worklistSchema.defaults(),
  },
  {
    notObject: 'must be a JSON object',
    rules: [
      (c) =>
        c.tls && c.tls.port === c.port
          ? ['tls.port', 'must differ from port (the plain listener)']
          : undefined,
      (c) =>
        c.port === 0 && !c.tls
          ? ['port', 'may be 0 (no plain listener) only with a TLS listener (tls)']
          : undefined,
      (c) => {
        const sources = c.nodes.flatMap((n, i) => (isDimse(n) && n.worklistSource ? [i] : []));
        if (sources.length <= 1) return undefined;
        const first = c.nodes[sources[0]!]!.name;
        return [
          `nodes[${sources[1]}].worklistSource`,
          `only one node may be the worklist source ("${first}" is)`,
        ];
      },
    ],
  },
);
export type Config = Infer<typeof configSchema>;

/** Validates a parsed JSON document and merges it over the defaults. Throws ConfigError. */
export function validateConfig(raw: unknown): Config {
  return configSchema.parse(raw, '');
}

/** What an empty file means: every key at its default. */
export const DEFAULTS: Config = validateConfig({});

export function isDimse(node: NodeConfig): node is DimseNodeConfig {
  return node.kind !== 'dicomweb';
}

/** The node the worklist is replicated from, if one is marked so. */
export function worklistSource(config: Config): DimseNodeConfig | undefined {
  return config.nodes.find((n): n is DimseNodeConfig => isDimse(n) && n.worklistSource === true);
}

/** Where a node is, as the dashboard and the console show it. */
export function nodeAddress(node: NodeConfig): string {
  return isDimse(node) ? `${node.ae}@${node.host}:${node.port}` : node.url;
}

/** Whether the box reaches the node over TLS (DICOM TLS, or an https:// URL). */
export function nodeUsesTls(node: NodeConfig): boolean {
  return isDimse(node) ? node.tls !== undefined : node.url.startsWith('https:');
}

/** "on port 104", "on port 104 and TLS port 2762", "on TLS port 2762": where the box listens. */
export function listeningOn(port: number, tlsPort: number | null): string {
  if (tlsPort === null) return `on port ${port}`;
  return port === 0 ? `on TLS port ${tlsPort}` : `on port ${port} and TLS port ${tlsPort}`;
}

/** The commit policy in force (see Config.commit). */
export function commitPolicy(config: Config): 'stored' | 'forwarded' {
  return config.commit ?? (config.nodes.some((n) => n.forward) ? 'forwarded' : 'stored');
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
