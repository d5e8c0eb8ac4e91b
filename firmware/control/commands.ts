// The control API's commands, in one place: each command's request and response types,
// and the check of a request's arguments as they arrive over the socket. The server
// (appliance.ts), the CLI, the dashboard and the serial console all speak these types;
// a failure crosses the socket as a structured error that keeps its kind and, for a
// refused configuration change, the key it refused.
import type { ConfigView, ChangeResult } from '../config/live-config';
import type { BackoffEnded, DestinationReport } from '../forward/forwarder';
import type { FailedJob, RetryFilter } from '../../storage/forward-queue';
import type { EvictionReport } from '../../storage/evictor';
import type { VerifyReport } from '../../storage/consistency';
import type { StoredCommitReport } from '../../storage/commitments';
import type { CacheReport } from '../../storage/archive';
import type { BoxStatus } from './status';
import type {
  MismatchView,
  RefreshResult,
  WorklistItemSummary,
  WorklistStatus,
} from '../worklist/worklist';

/** `worklist`: the copy's state and its items in schedule order (the first WORKLIST_LISTED). */
export interface WorklistReport {
  readonly status: WorklistStatus | null;
  readonly items: readonly WorklistItemSummary[];
}

/** At most this many items are listed by `worklist`, and mismatches by `worklist mismatches`. */
export const WORKLIST_LISTED = 500;

/** What `retry` requeued (how many, and the first of them), and the backoffs it ended. */
export interface RetryResult {
  readonly count: number;
  readonly jobs: ReadonlyArray<{ readonly sopInstanceUid: string; readonly destination: string }>;
  /** The destination named, whether or not it was backing off; else those that were. */
  readonly backoffs: readonly BackoffEnded[];
}

/** An echo's status, and whether its success ended a backoff towards the node. */
export interface EchoResult {
  readonly status: number;
  readonly backoffEnded: boolean;
}

/** At most this many requeued jobs are named in a RetryResult. */
export const RETRY_LISTED = 20;

/** A box answers `status` with a placeholder while it starts, or while `reindex` holds its socket. */
export type StatusResult = BoxStatus | { readonly starting: true } | { readonly reindexing: true };

/** The status of a running box, or an error saying what holds it. */
export function runningStatus(s: StatusResult): BoxStatus {
  if ('starting' in s) throw new ControlCommandError('failed', 'the box is still starting');
  if ('reindexing' in s)
    throw new ControlCommandError('failed', 'a reindex holds this storage directory');
  return s;
}

/** Every command: its arguments (besides "command") and its result. */
export interface ControlCommands {
  status: { args: Record<never, never>; result: StatusResult };
  config: { args: Record<never, never>; result: ConfigView };
  'config-set': { args: { set: Record<string, unknown> }; result: ChangeResult };
  /** The config file read again and put in force, as on SIGHUP. */
  reload: { args: Record<never, never>; result: ChangeResult };
  queue: { args: Record<never, never>; result: DestinationReport[] };
  failed: { args: { destination?: string }; result: FailedJob[] };
  retry: { args: RetryFilter; result: RetryResult };
  'commit-report': { args: { transaction: string }; result: StoredCommitReport | null };
  cache: { args: Record<never, never>; result: CacheReport };
  'cache-protect': {
    args: { study: string; protect: boolean };
    result: { study: string; protected: boolean };
  };
  'cache-evict': { args: { dryRun: boolean }; result: EvictionReport };
  check: { args: { digest: boolean; repair: boolean }; result: VerifyReport };
  echo: { args: { node: string }; result: EchoResult };
  /** A node answered an echo made outside the box (`dicom-edge echo --node`). */
  'echo-answered': { args: { node: string }; result: { backoffEnded: boolean } };
  worklist: { args: Record<never, never>; result: WorklistReport };
  /** Replicates the worklist now; answers when it is done. */
  'worklist-refresh': {
    args: Record<never, never>;
    result: { refresh: RefreshResult; status: WorklistStatus | null };
  };
  'worklist-mismatches': { args: Record<never, never>; result: MismatchView[] };
}

export type CommandName = keyof ControlCommands;
export type RequestOf<C extends CommandName> = { readonly command: C } & ControlCommands[C]['args'];
export type ResultOf<C extends CommandName> = ControlCommands[C]['result'];
export type AnyRequest = { [C in CommandName]: RequestOf<C> }[CommandName];

/** What a failure is, for the client to act on (a refused key is asked again). */
export type ControlErrorKind =
  | 'bad-request' // not a request, or an argument missing or of the wrong type
  | 'unknown-command'
  | 'config' // a configuration change refused; `key` names the setting
  | 'not-found' // no such node, study, transaction
  | 'failed'; // the command ran and failed

export interface ControlFailure {
  readonly kind: ControlErrorKind;
  readonly message: string;
  /** The configuration key a refused change names. */
  readonly key?: string;
}

/** Thrown by a handler (or the client) with a kind the other side can act on. */
export class ControlCommandError extends Error {
  override name = 'ControlCommandError';
  constructor(
    readonly kind: ControlErrorKind,
    message: string,
    readonly key?: string,
  ) {
    super(message);
  }
}

type Raw = Readonly<Record<string, unknown>>;

function bad(message: string): ControlCommandError {
  return new ControlCommandError('bad-request', message);
}

function optionalText(raw: Raw, command: string, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0)
    throw bad(`${command}: "${key}" must be a non-empty string`);
  return v;
}

function requiredText(raw: Raw, command: string, key: string, what: string): string {
  const v = optionalText(raw, command, key);
  if (v === undefined) throw bad(`${command} needs "${key}" (${what})`);
  return v;
}

function flag(raw: Raw, command: string, key: string): boolean {
  const v = raw[key];
  if (typeof v !== 'boolean') throw bad(`${command} needs "${key}" (true or false)`);
  return v;
}

const none = (): Record<never, never> => ({});

/** Each command's check of its arguments: what arrives is JSON from another process. */
const PARSERS: { [C in CommandName]: (raw: Raw) => ControlCommands[C]['args'] } = {
  status: none,
  config: none,
  queue: none,
  cache: none,
  reload: none,
  worklist: none,
  'worklist-refresh': none,
  'worklist-mismatches': none,
  'config-set': (raw) => {
    const set = raw.set;
    if (typeof set !== 'object' || set === null || Array.isArray(set))
      throw bad('config-set needs "set": an object of keys and values');
    return { set: set as Record<string, unknown> };
  },
  failed: (raw) => {
    const destination = optionalText(raw, 'failed', 'destination');
    return destination ? { destination } : {};
  },
  retry: (raw) => {
    const destination = optionalText(raw, 'retry', 'destination');
    const sopInstanceUid = optionalText(raw, 'retry', 'sopInstanceUid');
    const studyInstanceUid = optionalText(raw, 'retry', 'studyInstanceUid');
    return {
      ...(destination ? { destination } : {}),
      ...(sopInstanceUid ? { sopInstanceUid } : {}),
      ...(studyInstanceUid ? { studyInstanceUid } : {}),
    };
  },
  'commit-report': (raw) => ({
    transaction: requiredText(raw, 'commit-report', 'transaction', 'a transaction UID'),
  }),
  'cache-protect': (raw) => ({
    study: requiredText(raw, 'cache-protect', 'study', 'a Study Instance UID'),
    protect: flag(raw, 'cache-protect', 'protect'),
  }),
  'cache-evict': (raw) => ({ dryRun: flag(raw, 'cache-evict', 'dryRun') }),
  check: (raw) => ({ digest: flag(raw, 'check', 'digest'), repair: flag(raw, 'check', 'repair') }),
  echo: (raw) => ({ node: requiredText(raw, 'echo', 'node', 'a node name') }),
  'echo-answered': (raw) => ({
    node: requiredText(raw, 'echo-answered', 'node', 'a node name'),
  }),
};

export function isCommand(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(PARSERS, name);
}

/** Checks a request line's object; throws ControlCommandError('bad-request' | 'unknown-command'). */
export function parseRequest(raw: unknown): AnyRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw bad('a request is a JSON object with a "command"');
  const command = (raw as Raw).command;
  if (typeof command !== 'string') throw bad('a request is a JSON object with a "command"');
  if (!isCommand(command))
    throw new ControlCommandError('unknown-command', `unknown command "${command}"`);
  return { command, ...PARSERS[command](raw as Raw) } as AnyRequest;
}

/** The handlers a running box serves: one per command, typed by it. */
export type ControlHandlers = {
  [C in CommandName]: (request: RequestOf<C>) => ResultOf<C> | Promise<ResultOf<C>>;
};
