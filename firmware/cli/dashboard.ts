// `dicom-edge dashboard [--config F]`: the terminal dashboard, attached to the running box
// over its control socket (the box keeps running when the dashboard quits).
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import type { Command } from 'commander';
import { exits, withConfigOption, type ConfigOption } from './args';

export function dashboardCommand(program: Command): void {
  withConfigOption(
    program
      .command('dashboard')
      .summary("the running box's terminal dashboard")
      .description(
        'The terminal dashboard of the running box (q quits it; the box keeps running). ' +
          'It waits for a box that is not running yet.',
      ),
  ).action(exits(dashboard));
}

async function dashboard(options: ConfigOption): Promise<number> {
  const { config } = loadConfig(options.config);
  // A box not (yet) running is shown on the dashboard, which keeps asking: on tty1 the
  // dashboard may start before the box does.
  const { Dashboard } = await import('../../ui-tty/dashboard');
  const shown = new Dashboard({
    call: (request) => controlRequest(config.storageDir, request, 5000),
  });
  shown.start();
  await shown.done;
  return 0;
}
