// `dicom-edge cache [--config F]`: use, watermarks, what may be evicted and what is pinned.
// `dicom-edge cache protect|unprotect STUDY_UID...`: keep studies (or stop keeping them).
// `dicom-edge cache evict --dry-run|--now`: show, or do, what eviction does now.
import type { Command } from 'commander';
import { ControlCommandError } from '../control/commands';
import { formatCacheReport, formatEviction } from '../../ui-tty/format';
import { exits, UsageError, withConfigOption, type ConfigOption } from './args';
import { askBox } from './running-box';

interface EvictOptions extends ConfigOption {
  readonly dryRun?: boolean;
  readonly now?: boolean;
}

export function cacheCommand(program: Command): void {
  const cache = withConfigOption(
    program
      .command('cache')
      .summary('cache use, eviction and protected studies')
      .description(
        "The running box's cache: use against its watermarks, what eviction may take next " +
          'and the studies protected from it.',
      ),
  ).action(
    exits(async (options: ConfigOption) => {
      process.stdout.write(formatCacheReport(await askBox(options, { command: 'cache' })));
      return 0;
    }),
  );

  for (const protect of [true, false])
    cache
      .command(protect ? 'protect' : 'unprotect')
      .description(
        protect
          ? 'Keep studies from eviction (they still count in the cache use).'
          : 'Let eviction take protected studies again.',
      )
      .argument('<STUDY_UID...>', 'the Study Instance UIDs')
      .action(
        exits(async (studies: string[], _: unknown, command: Command) =>
          protectStudies(command.optsWithGlobals<ConfigOption>(), studies, protect),
        ),
      );

  cache
    .command('evict')
    .description(
      'Evict down to the low watermark now, as if the high one were crossed (--now), or ' +
        'show what that would take (--dry-run). Only delivered, unprotected studies go.',
    )
    .option('--dry-run', 'show what would be evicted, evict nothing')
    .option('--now', 'evict now')
    .action(
      exits(async (_: unknown, command: Command) => {
        const options = command.optsWithGlobals<EvictOptions>();
        if (options.dryRun === options.now)
          throw new UsageError('evict needs one of --dry-run or --now');
        const report = await askBox(options, { command: 'cache-evict', dryRun: !!options.dryRun });
        process.stdout.write(formatEviction(report));
        return 0;
      }),
    );
}

/**
 * Each study in turn, each line saying what was done: one not in the cache is named at the
 * end and the others are still (un)protected, as the operator asked for each of them.
 */
async function protectStudies(
  options: ConfigOption,
  studies: readonly string[],
  protect: boolean,
): Promise<number> {
  const missing: string[] = [];
  for (const study of studies) {
    try {
      await askBox(options, { command: 'cache-protect', study, protect });
    } catch (err) {
      if (!(err instanceof ControlCommandError && err.kind === 'not-found')) throw err;
      missing.push(err.message);
      continue;
    }
    process.stdout.write(`study ${study} ${protect ? 'protected' : 'no longer protected'}\n`);
  }
  if (missing.length > 0) throw new ControlCommandError('not-found', missing.join('; '));
  return 0;
}
