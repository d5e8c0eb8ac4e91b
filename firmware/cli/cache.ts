// `dicom-edge cache [--config F]`: use, watermarks, what may be evicted and what is pinned.
// `dicom-edge cache protect|unprotect STUDY_UID`: keep a study (or stop keeping it).
// `dicom-edge cache evict --dry-run|--now`: show, or do, what eviction does now.
import type { Command } from 'commander';
import { formatCacheReport, formatEviction } from '../../ui-tty/format';
import { exits, noSubcommand, UsageError, withConfigOption, type ConfigOption } from './args';
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
      )
      .allowExcessArguments(),
  ).action(
    exits(async (options: ConfigOption, command: Command) => {
      noSubcommand(command, command.args);
      process.stdout.write(formatCacheReport(await askBox(options, { command: 'cache' })));
      return 0;
    }),
  );

  for (const protect of [true, false])
    cache
      .command(protect ? 'protect' : 'unprotect')
      .description(
        protect
          ? 'Keep a study from eviction (it still counts in the cache use).'
          : 'Let eviction take a protected study again.',
      )
      .argument('<STUDY_UID>', 'the Study Instance UID')
      .action(
        exits(async (study: string, _: unknown, command: Command) => {
          await askBox(command.optsWithGlobals<ConfigOption>(), {
            command: 'cache-protect',
            study,
            protect,
          });
          process.stdout.write(`study ${study} ${protect ? 'protected' : 'no longer protected'}\n`);
          return 0;
        }),
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
