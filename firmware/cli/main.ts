// The command line: one file per command; this file only dispatches.
import { cacheCommand } from './cache';
import { checkCommand } from './check';
import { echoCommand } from './echo';
import { commitCommand } from './commit';
import { configCommand } from './config';
import { consoleCommand } from './console';
import { dashboardCommand } from './dashboard';
import { queueCommand } from './queue';
import { statusCommand } from './status';
import { findCommand, getCommand, moveCommand } from './qr';
import { reindexCommand } from './reindex';
import { startCommand } from './start';
import { storeCommand } from './store';
import { describeFailure } from './failure';

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  start: startCommand,
  echo: echoCommand,
  store: storeCommand,
  reindex: reindexCommand,
  queue: queueCommand,
  cache: cacheCommand,
  check: checkCommand,
  find: findCommand,
  move: moveCommand,
  get: getCommand,
  commit: commitCommand,
  status: statusCommand,
  config: configCommand,
  console: consoleCommand,
  dashboard: dashboardCommand,
};

const USAGE = `usage: dicom-edge <command> [options]
  start [--config F] [--serial PATH] [--dashboard]   run the appliance
  echo HOST PORT [--aet A] [--aec B]         C-ECHO; exit 0 only on Success
  store HOST PORT FILE|DIR... [--aet --aec]  C-STORE files; exit 1 if any failed
  reindex [--config F]                       rebuild the index from the cache files
  status [--config F]                        the running box at a glance
  queue [failed | retry [--dest N] [--sop UID] [--study UID]] [--config F]   forward queue; failed jobs; requeue
  cache [protect|unprotect UID | evict --dry-run|--now] [--config F]   cache use, eviction, pins
  check [--digest] [--repair] [--config F]   the running box's index against its files
  config [set KEY=VALUE...] [--config F]     show or change the running box's configuration
  console [--config F]                       the serial console's commands on this terminal
  dashboard [--config F]                     the terminal dashboard of the running box
  find HOST PORT -k KEY[=VALUE]... [--level L] [--root study|patient] [--aet --aec]
  move HOST PORT --dest AE -k KEY=VALUE... [--level L] [--root ...]
  get HOST PORT --out DIR -k KEY=VALUE... [--level L] [--root ...]
  commit HOST PORT FILE|DIR... [--aet --aec] [--timeout S]   storage commitment request
echo, store, find, move, get and commit speak DICOM TLS with DCMTK's options:
  +tls KEY CERT (client key and certificate) or +tla (none), +cf CA, +py|+px|+pz (profile)
or take --node NAME [--config F] instead of HOST PORT: a configured node, as the box calls it
`;

export function main(argv: readonly string[]): void {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(USAGE);
    process.exitCode = name === undefined || name === 'help' || name === '--help' ? 0 : 2;
    return;
  }
  command(rest).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      const { line, code } = describeFailure(err);
      process.stderr.write(`dicom-edge ${name}: ${line}\n`);
      process.exitCode = code;
    },
  );
}
