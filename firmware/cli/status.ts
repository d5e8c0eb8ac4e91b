// `dicom-edge status [--config F]`: the running box at a glance, over its control socket.
import { runningStatus } from '../control/commands';
import type { Command } from 'commander';
import { exits, withConfigOption, type ConfigOption } from './args';
import { askBox } from './running-box';
import { formatBoxStatus } from '../../ui-tty/format';

export function statusCommand(program: Command): void {
  withConfigOption(
    program
      .command('status')
      .summary('the running box at a glance')
      .description(
        'The running box at a glance: identity, listener, associations, cache, forward ' +
          'queues, certificates and recent events.',
      ),
  ).action(exits(status));
}

async function status(options: ConfigOption): Promise<number> {
  const running = await askBox(options, { command: 'status' });
  process.stdout.write(formatBoxStatus(runningStatus(running)));
  return 0;
}
