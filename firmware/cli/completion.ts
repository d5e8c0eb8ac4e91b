// `dicom-edge completion`: a bash completion script made from the program's own
// definitions, so it offers exactly the commands and options there are. The installer
// writes it to /etc/bash_completion.d/dicom-edge.
import type { Command, Option } from 'commander';
import { exits } from './args';

export function completionCommand(program: Command): void {
  program
    .command('completion')
    .summary('print the bash completion script')
    .description(
      'Print a bash completion script for dicom-edge. Load it in this shell with\n' +
        '  source <(dicom-edge completion)\n' +
        'or write it to /etc/bash_completion.d/dicom-edge, as scripts/install.sh does.',
    )
    .action(
      exits(async () => {
        process.stdout.write(bashCompletion(program));
        return 0;
      }),
    );
}

interface Level {
  /** " queue retry": the command words after the program's name, each after a space. */
  readonly path: string;
  readonly subcommands: readonly string[];
  readonly options: readonly Option[];
}

/**
 * Every command a user can see, under each of its names, offering what its --help lists:
 * its subcommands, its options and those of the commands above it (`queue failed` takes
 * queue's --config).
 */
function levels(command: Command, path = ''): Level[] {
  const help = command.createHelp();
  const below = help.visibleCommands(command);
  return [
    {
      path,
      subcommands: below.map((c) => c.name()),
      options: [...help.visibleOptions(command), ...help.visibleGlobalOptions(command)],
    },
    ...below.flatMap((c) => [c.name(), ...c.aliases()].flatMap((n) => levels(c, `${path} ${n}`))),
  ];
}

/**
 * `help` takes the words of a command (help queue retry): after "help" come the program's
 * commands, and after each the subcommands it has, as if "help" were not typed.
 */
function withHelpLevels(all: readonly Level[], helpCommand: Command | undefined): Level[] {
  if (!helpCommand) return [...all];
  const help = helpCommand.createHelp();
  const options = help.visibleOptions(helpCommand);
  const isHelp = (l: Level): boolean => l.path === ' help' || l.path.startsWith(' help ');
  return [
    ...all.filter((l) => !isHelp(l)),
    ...all
      .filter((l) => !isHelp(l))
      .map((l) => ({
        path: ` help${l.path}`,
        subcommands: l.subcommands.filter((c) => c !== 'help'),
        options,
      })),
  ];
}

function flagsOf(option: Option): string[] {
  return [option.short, option.long].filter((f): f is string => f !== undefined);
}

/** Only words a completion may offer: nothing there needs quoting for bash. */
function words(list: readonly string[]): string {
  for (const w of list)
    if (!/^[\w.,:+/=-]+$/.test(w)) throw new Error(`completion word needs quoting: ${w}`);
  return list.join(' ');
}

export function bashCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/\W/g, '_')}`;
  const all = withHelpLevels(
    levels(program),
    program.commands.find((c) => c.name() === 'help'),
  );
  const commandCases = all
    .filter((l) => l.path !== '')
    .map((l) => `"${l.path}"`)
    .join('|');
  const offers = all.map(
    (l) =>
      `    "${l.path}") subcommands="${words(l.subcommands)}"; options="${words(l.options.flatMap(flagsOf))}" ;;`,
  );
  const choices = all.flatMap((l) =>
    l.options
      .filter((o) => o.argChoices && o.argChoices.length > 0)
      .flatMap((o) =>
        flagsOf(o).map(
          (f) =>
            `    "${l.path} ${f}") COMPREPLY=($(compgen -W "${words(o.argChoices!)}" -- "$cur")); return ;;`,
        ),
      ),
  );
  return `# bash completion for ${name}, made by \`${name} completion\` from its own definitions.
${fn}() {
  local cur prev path word i subcommands options
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$path $word" in
      ${commandCases}) path="$path $word" ;;
    esac
  done
  case "$path $prev" in
${choices.join('\n')}
  esac
  case "$path" in
${offers.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  elif [[ -n "$subcommands" ]]; then
    COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
  else
    COMPREPLY=()
  fi
}
# -o default: where nothing is offered (a file, a host), bash completes file names.
complete -o default -F ${fn} ${name}
`;
}
