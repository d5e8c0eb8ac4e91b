// `dicom-edge cache [--config F]`: use, watermarks, what may be evicted and what is pinned.
// `dicom-edge cache protect|unprotect STUDY_UID`: keep a study (or stop keeping it).
// `dicom-edge cache evict --dry-run|--now`: show, or do, what eviction does now.
import { loadConfig } from '../config/load';
import { controlRequest, type ControlCall } from '../control/control-client';
import { formatCacheReport, formatEviction } from '../../ui-tty/format';
import { one, parseArgs, UsageError } from './args';

const USAGE =
  'usage: dicom-edge cache [protect STUDY_UID | unprotect STUDY_UID | evict --dry-run|--now] [--config F]';

export async function cacheCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config'], ['--dry-run', '--now']);
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  const [sub, study, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"; ${USAGE}`);
  const call: ControlCall = (request) => controlRequest(config.storageDir, request);
  if (sub === undefined) {
    process.stdout.write(formatCacheReport(await call({ command: 'cache' })));
    return 0;
  }
  if (sub === 'protect' || sub === 'unprotect') {
    if (!study) throw new UsageError(`${sub} needs a Study Instance UID; ${USAGE}`);
    await call({ command: 'cache-protect', study, protect: sub === 'protect' });
    process.stdout.write(
      `study ${study} ${sub === 'protect' ? 'protected' : 'no longer protected'}\n`,
    );
    return 0;
  }
  if (sub === 'evict') {
    const dryRun = args.options.has('--dry-run');
    if (dryRun === args.options.has('--now'))
      throw new UsageError(`evict needs one of --dry-run or --now; ${USAGE}`);
    const report = await call({ command: 'cache-evict', dryRun });
    process.stdout.write(formatEviction(report));
    return 0;
  }
  throw new UsageError(`unknown "${sub}"; ${USAGE}`);
}
