// What the commands share about their arguments. The parsing itself is commander's
// (program.ts says why); these are the checks and shapes commander leaves to us.
import type { Command } from 'commander';
import { closest } from '../nearest-word';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function portArg(value: string | undefined): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`port must be 1-65535, got ${value ?? 'nothing'}`);
  return port;
}

/** "dicom-edge queue retry": the words that run a command. */
export function commandPath(command: Command): string {
  return command.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

/** The positional arguments given, in order (commander passes undefined for the others). */
export function given(...words: Array<string | readonly string[] | undefined>): string[] {
  return words.flatMap((w) => (w === undefined ? [] : typeof w === 'string' ? [w] : [...w]));
}

/** For a repeatable option (`-k A -k B`): each value is added to the list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export interface ConfigOption {
  readonly config?: string;
}

/** `--config F`: the configuration that finds the running box (its storageDir). */
export function withConfigOption(command: Command): Command {
  return command.option(
    '--config <FILE>',
    'the configuration the box runs with (else $DICOM_EDGE_CONFIG, else ./dicom-edge.json)',
  );
}

/**
 * An action that reports its exit code: commander ignores what an action returns, so the
 * code is set here (a failure thrown instead is described by main.ts).
 */
export function exits<A extends unknown[]>(
  action: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    process.exitCode = await action(...args);
  };
}

/**
 * A word that names none of `parent`'s commands (`dicom-edge stat`, `help stat`, `queue
 * retyr`), with the nearest one it has. Ours, not commander's suggestion, so that each
 * of those says the same, and a word cut short finds the command it begins.
 */
export function unknownCommandError(parent: Command, word: string): UsageError {
  const names = parent
    .createHelp()
    .visibleCommands(parent)
    .map((c) => c.name());
  const near = closest(word, names);
  const said =
    parent.parent === null
      ? `unknown command '${word}'`
      : `unknown ${parent.name()} command "${word}"`;
  return new UsageError(
    `${said}${near ? `; did you mean ${near}?` : ''} (${commandPath(parent)} --help)`,
  );
}

/**
 * What is said of words a command does not use (commander's "too many arguments" names
 * none). For a command with subcommands that also acts on its own (`queue` shows the
 * queue), the first word is a subcommand mistyped: the nearest one is suggested.
 */
export function excessWordsError(command: Command): UsageError {
  const words = command.args.slice(command.registeredArguments.length);
  if (command.commands.length > 0 && command.registeredArguments.length === 0)
    return unknownCommandError(command, words[0] ?? '');
  return new UsageError(
    `too many words: ${words.map((w) => `"${w}"`).join(' ')} ${words.length > 1 ? 'are' : 'is'} not used (usage: ${commandPath(command)} ${command.usage()})`,
  );
}
