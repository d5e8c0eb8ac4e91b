// The command line's entry: DCMTK's spellings rewritten, the program parsed and run, and
// a failure said in one line with its exit code (failure.ts).
import { CommanderError, type Command } from 'commander';
import { commandPath, excessWordsError, unknownCommandError, UsageError } from './args';
import { describeFailure, EXIT } from './failure';
import { fromDcmtkSpellings } from './peer-args';
import { allCommands, buildProgram, PROGRAM } from './program';

/** commander's "error: unknown option '--aett'\n(Did you mean --aet?)", as one line. */
function usageLine(command: Command, err: CommanderError): string {
  const said = err.message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\?\)/, '; did you mean $1?')
    .trim();
  return `${said} (${commandPath(command)} --help)`;
}

export function main(argv: readonly string[]): void {
  // `dicom-edge --help | head`: a reader that stops reading is not a failure.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram();
  let running = PROGRAM;
  for (const command of allCommands(program)) {
    // Errors are said by main, once, in the one-line form of the other failures.
    command.configureOutput({ outputError: () => undefined });
    command.exitOverride((err) => {
      running = commandPath(command);
      // 'commander.help': the help was shown because no command was given.
      if (err.exitCode === 0 || err.code === 'commander.help') throw err;
      if (err.code === 'commander.unknownCommand')
        throw unknownCommandError(command, command.args[0] ?? '');
      if (err.code === 'commander.excessArguments') throw excessWordsError(command);
      throw new UsageError(usageLine(command, err));
    });
  }
  program.hook('preAction', (_program, action) => {
    running = commandPath(action);
  });
  let args: string[];
  try {
    args = fromDcmtkSpellings(argv);
  } catch (err) {
    const named = program.commands.find((c) => c.name() === argv[0]);
    process.stderr.write(`${named ? commandPath(named) : PROGRAM}: ${(err as Error).message}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  program.parseAsync(args, { from: 'user' }).then(
    () => undefined,
    (err: Error) => {
      // --help and --version end the parse with exit code 0; no command at all shows the
      // help and is a usage error.
      if (err instanceof CommanderError) {
        process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage;
        return;
      }
      const { line, code } = describeFailure(err);
      process.stderr.write(`${running}: ${line}\n`);
      process.exitCode = code;
    },
  );
}
