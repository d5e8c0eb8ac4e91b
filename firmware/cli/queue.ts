// `dicom-edge queue [--config F]`: per-destination forward state of the running box.
// `dicom-edge queue failed [--dest NAME]`: the jobs that failed for good, by SOP Instance UID.
// `dicom-edge queue retry [--dest NAME] [--sop UID] [--study UID]`: requeue failed jobs.
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import { formatFailedJobs, formatQueue, formatRetry } from '../../ui-tty/format';
import { one, parseArgs, UsageError } from './args';

const USAGE =
  'usage: dicom-edge queue [failed [--dest NAME] | retry [--dest NAME] [--sop UID] [--study UID]] [--config F]';

export async function queueCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config', '--dest', '--sop', '--study']);
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  const [sub, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"; ${USAGE}`);
  const option = (name: string): string | undefined =>
    args.options.has(name) ? one(args, name, '') : undefined;
  if (sub === undefined) {
    const reports = await controlRequest(config.storageDir, {
      command: 'queue',
    });
    process.stdout.write(formatQueue(reports));
    return 0;
  }
  if (sub === 'failed') {
    const destination = option('--dest');
    const jobs = await controlRequest(config.storageDir, {
      command: 'failed',
      ...(destination ? { destination } : {}),
    });
    process.stdout.write(formatFailedJobs(jobs));
    return 0;
  }
  if (sub === 'retry') {
    const destination = option('--dest');
    const sopInstanceUid = option('--sop');
    const studyInstanceUid = option('--study');
    const result = await controlRequest(config.storageDir, {
      command: 'retry',
      ...(destination ? { destination } : {}),
      ...(sopInstanceUid ? { sopInstanceUid } : {}),
      ...(studyInstanceUid ? { studyInstanceUid } : {}),
    });
    process.stdout.write(`${formatRetry(result)}\n`);
    return 0;
  }
  throw new UsageError(`unknown "${sub}"; ${USAGE}`);
}
