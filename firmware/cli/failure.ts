// What a command that failed prints and exits with: one line saying what happened and
// what to do, never a stack trace for a mistake a field engineer can make, and an exit
// code per kind of failure so that a script can tell them apart (README, "Command line").
import { ConfigError, UnknownNodeError } from '../config/config';
import { ControlCommandError } from '../control/commands';
import { CommitmentTimeoutError } from '../services/commitment/commitment-scu';
import { ControlError, StorageInUseError } from '../control/control-client';
import {
  AssociationAbortedError,
  AssociationClosedError,
  AssociationRejectedError,
  DatasetParseError,
  Part10Error,
} from '../dicom/errors';
import { ListenError } from '../scp-server';
import { UsageError } from './args';

/** Exit codes: 0 success, 1 the peer answered with a failure (the command says which). */
export const EXIT = {
  /** Bad usage, or a configuration refused. */
  usage: 2,
  /** The peer or the box could not be reached, refused the association, or broke it off. */
  unreachable: 3,
  /** A file or folder named on the command line is missing, unreadable or not DICOM. */
  file: 4,
  /** The box cannot start: its DICOM port is taken or not allowed. */
  cannotListen: 5,
  /** Another box (or a reindex) uses this storage directory: stop it first. */
  storageInUse: 6,
  /** A storage commitment was not reported within --timeout. */
  commitTimeout: 7,
  /** Something this program did not expect: a bug to report, with the trace. */
  internal: 70,
} as const;

/** What each exit code means, as `--help` and the man page say it. */
export const EXIT_MEANINGS: ReadonlyArray<readonly [number, string]> = [
  [0, 'success'],
  [1, 'the peer or the box answered with a failure (the output says which)'],
  [EXIT.usage, 'bad usage, or a configuration refused (the key is named)'],
  [EXIT.unreachable, 'the peer or the box is unreachable, refused the association or aborted it'],
  [EXIT.file, 'a file or folder named is missing, unreadable or not DICOM'],
  [EXIT.cannotListen, 'the box cannot listen on its DICOM port'],
  [EXIT.storageInUse, 'another box or a reindex uses this storage directory'],
  [EXIT.commitTimeout, 'a storage commitment was not reported within --timeout'],
  [EXIT.internal, 'an internal error: please report it with the trace printed'],
];

export function exitCodesText(): string {
  return EXIT_MEANINGS.map(([code, meaning]) => `  ${String(code).padStart(2)}  ${meaning}`).join(
    '\n',
  );
}

const NETWORK_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there: check the host, the port and that the peer runs',
  ENOTFOUND: 'the host name is not known: check its spelling, or use an address',
  EAI_AGAIN: 'the host name could not be looked up now: check DNS and the network',
  EHOSTUNREACH: 'no route to the host: check the network and the address',
  ENETUNREACH: 'the network is unreachable: check the link and the address',
  ETIMEDOUT: 'the peer did not answer in time: check the address and any firewall',
  ECONNRESET: 'the peer closed the connection: check its logs (AE titles, TLS)',
};

const FILE_HINTS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'not allowed to read or write it',
  ENOTDIR: 'a file stands where a folder is needed',
  EEXIST: 'it exists already, and not as a folder',
  EISDIR: 'it is a folder, a file is needed',
};

export function describeFailure(err: Error): { line: string; code: number } {
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof ControlCommandError ||
    err instanceof UnknownNodeError
  )
    return { line: err.message, code: EXIT.usage };
  if (err instanceof CommitmentTimeoutError)
    return {
      line: `${err.message}: the peer may still report to the box's listener; try a longer --timeout`,
      code: EXIT.commitTimeout,
    };
  if (err instanceof ListenError) return { line: err.message, code: EXIT.cannotListen };
  if (err instanceof StorageInUseError) return { line: err.message, code: EXIT.storageInUse };
  if (err instanceof ControlError) return { line: err.message, code: EXIT.unreachable };
  if (
    err instanceof AssociationRejectedError ||
    err instanceof AssociationAbortedError ||
    err instanceof AssociationClosedError
  )
    return {
      line: `${err.message}: check the AE titles and the peer's log`,
      code: EXIT.unreachable,
    };
  if (err instanceof Part10Error || err instanceof DatasetParseError)
    return { line: `not a DICOM file the box can send: ${err.message}`, code: EXIT.file };
  const code = (err as NodeJS.ErrnoException).code;
  if (code && code in NETWORK_HINTS)
    return { line: `${err.message}: ${NETWORK_HINTS[code]}`, code: EXIT.unreachable };
  if (/^TLS/.test(err.message))
    return {
      line: `${err.message}: check the certificates (+tls, +cf) and the peer's name`,
      code: EXIT.unreachable,
    };
  if (code && code in FILE_HINTS) {
    const where = (err as NodeJS.ErrnoException).path;
    return {
      line: `${where ?? err.message}: ${FILE_HINTS[code]}`,
      code: EXIT.file,
    };
  }
  return {
    line: `internal error, please report it with this trace:\n${err.stack ?? err.message}`,
    code: EXIT.internal,
  };
}
