// `dicom-edge status [--config F]`: the running box at a glance, over its control socket.
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import { runningStatus } from '../control/commands';
import { one, parseArgs } from './args';
import { formatBoxStatus } from '../../ui-tty/format';

export async function statusCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config']);
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  const status = await controlRequest(config.storageDir, { command: 'status' });
  process.stdout.write(formatBoxStatus(runningStatus(status)));
  return 0;
}
