// `dicom-edge console [--config F]`: the serial console's command set on this terminal,
// talking to the running box over its control socket. Reads commands from stdin (a pipe
// works too: `echo status | dicom-edge console`); ends on "exit", "quit" or end of input.
import * as readline from 'node:readline';
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import { ConsoleCommands } from '../../ui-tty/console-commands';
import { PROMPT } from '../../ui-tty/serial-console';
import type { Command } from 'commander';
import { exits, withConfigOption, type ConfigOption } from './args';

export function consoleCommand(program: Command): void {
  withConfigOption(
    program
      .command('console')
      .summary("the serial console's commands on this terminal")
      .description(
        "The serial console's commands on this terminal, for the running box. Reads " +
          'commands from stdin (a pipe works: echo status | dicom-edge console); ends on ' +
          'exit, quit or the end of input. Type help for the commands.',
      ),
  ).action(exits(runConsole));
}

async function runConsole(options: ConfigOption): Promise<number> {
  const { config } = loadConfig(options.config);
  // Fail now, not at the first command, when no box is running.
  await controlRequest(config.storageDir, { command: 'config' });
  const commands = new ConsoleCommands((request) => controlRequest(config.storageDir, request));
  const interactive = process.stdin.isTTY === true;
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: interactive,
  });
  if (interactive) {
    rl.setPrompt(PROMPT);
    process.stdout.write('dicom-edge console (type help, exit to leave)\n');
    rl.prompt();
  }
  for await (const line of rl) {
    const word = line.trim().toLowerCase();
    if (word === 'exit' || word === 'quit') break;
    const output = await commands.run(line);
    if (output) process.stdout.write(`${output}\n`);
    if (interactive) rl.prompt();
  }
  rl.close();
  return 0;
}
