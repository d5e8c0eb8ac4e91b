// `dicom-edge help [COMMAND...]`: a command's help, the same as `COMMAND --help`. Ours,
// not commander's help command, which answers a word it does not know with the whole
// help on stderr; this one says the nearest command in one line, as a mistyped command
// gets (`help stat`: did you mean status?), and takes a subcommand too (`help queue retry`).
import type { Command } from 'commander';
import { exits, unknownCommandError } from './args';

export function helpCommand(program: Command): void {
  program
    .helpCommand(false)
    .command('help')
    .summary("show a command's help")
    .description("Show a command's help, as COMMAND --help shows it.")
    .argument('[COMMAND...]', 'the command, and its subcommand (help queue retry)')
    .action(
      exits(async (words: string[]) => {
        let command = program;
        for (const word of words) {
          const named = command.commands.find((c) => c.name() === word);
          if (!named) throw unknownCommandError(command, word);
          command = named;
        }
        command.outputHelp();
        return 0;
      }),
    );
}
