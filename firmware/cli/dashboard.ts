// `dicom-edge dashboard [--config F]`: the terminal dashboard, attached to the running box
// over its control socket (the box keeps running when the dashboard quits).
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import { one, parseArgs } from './args';

export async function dashboardCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config']);
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  // A box not (yet) running is shown on the dashboard, which keeps asking: on tty1 the
  // dashboard may start before the box does.
  const { Dashboard } = await import('../../ui-tty/dashboard');
  const dashboard = new Dashboard({
    call: (request) => controlRequest(config.storageDir, request, 5000),
  });
  dashboard.start();
  await dashboard.done;
  return 0;
}
