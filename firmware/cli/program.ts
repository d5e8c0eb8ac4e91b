// The command line's definition: every command, its arguments and options, in one tree.
// The parsing is commander's (the README's design section says why not Node's
// util.parseArgs): subcommands, per-command help and suggestions for a mistyped option
// or command come from the same definitions as the bash completion and the man page.
import { Command } from 'commander';
import { VERSION } from '../version';
import { cacheCommand } from './cache';
import { checkCommand } from './check';
import { commitCommand } from './commit';
import { completionCommand } from './completion';
import { configCommand } from './config';
import { consoleCommand } from './console';
import { dashboardCommand } from './dashboard';
import { echoCommand } from './echo';
import { exitCodesText } from './failure';
import { helpCommand } from './help';
import { manPageCommand } from './man-page';
import { nodeCommand } from './node';
import { findCommand, getCommand, moveCommand } from './qr';
import { queueCommand } from './queue';
import { reindexCommand } from './reindex';
import { reloadCommand } from './reload';
import { startCommand } from './start';
import { statusCommand } from './status';
import { storeCommand } from './store';
import { worklistCommand } from './worklist';

export const PROGRAM = 'dicom-edge';

const DEFINITIONS: ReadonlyArray<(program: Command) => void> = [
  startCommand,
  echoCommand,
  storeCommand,
  findCommand,
  moveCommand,
  getCommand,
  commitCommand,
  statusCommand,
  queueCommand,
  cacheCommand,
  worklistCommand,
  nodeCommand,
  configCommand,
  reloadCommand,
  checkCommand,
  reindexCommand,
  dashboardCommand,
  consoleCommand,
  completionCommand,
  manPageCommand,
  // Last, where commander listed its own help command.
  helpCommand,
];

export function buildProgram(): Command {
  const program = new Command(PROGRAM)
    .description(
      'DICOM store-and-forward edge box: receives studies, keeps them in a durable cache, ' +
        'forwards them upstream and serves them back (C-FIND, C-MOVE, C-GET).',
    )
    .version(VERSION, '--version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help and exit')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `\nRun "${PROGRAM} COMMAND --help" for a command's options.\n\nExit codes:\n${exitCodesText()}`,
    );
  for (const define of DEFINITIONS) define(program);
  for (const command of allCommands(program))
    command.configureHelp({
      // A command list names the commands; each one's --help gives its arguments.
      subcommandTerm: (c) => c.name(),
      // `queue retry --help` says that --config (an option of queue) applies.
      showGlobalOptions: command.parent !== null && command.parent.parent !== null,
    });
  return program;
}

/** Every command of the tree, the program first. */
export function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** The words of every command a user can see, as its help lists them: ['queue', 'retry']. */
export function visibleCommandPaths(command: Command, above: string[] = []): string[][] {
  const help = command.createHelp();
  return help
    .visibleCommands(command)
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [[...above, c.name()], ...visibleCommandPaths(c, [...above, c.name()])]);
}
