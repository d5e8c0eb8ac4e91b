// `dicom-edge queue [--config F]`: per-destination forward state of the running box.
// `dicom-edge queue retry [--dest NAME] [--config F]`: requeue failed jobs.
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import type { DestinationReport } from '../forward/forwarder';
import { formatQueue } from '../../ui-tty/format';
import { one, parseArgs, UsageError } from './args';

export async function queueCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config', '--dest']);
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  const [sub] = args.positionals;
  if (sub === undefined) {
    const reports = (await controlRequest(config.storageDir, {
      command: 'queue',
    })) as DestinationReport[];
    process.stdout.write(formatQueue(reports));
    return 0;
  }
  if (sub === 'retry') {
    const destination = args.options.has('--dest') ? one(args, '--dest', '') : undefined;
    const count = (await controlRequest(config.storageDir, {
      command: 'retry',
      ...(destination ? { destination } : {}),
    })) as number;
    process.stdout.write(
      `${count} failed job(s) requeued${destination ? ` for ${destination}` : ''}\n`,
    );
    return 0;
  }
  throw new UsageError('usage: dicom-edge queue [retry [--dest NAME]] [--config F]');
}
