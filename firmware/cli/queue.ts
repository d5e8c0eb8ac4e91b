// `dicom-edge queue [--config F]`: per-destination forward state of the running box.
// `dicom-edge queue failed [DEST]`: the jobs that failed for good, by SOP Instance UID.
// `dicom-edge queue retry [DEST] [--sop UID] [--study UID]`: requeue failed jobs.
import type { Command } from 'commander';
import { formatFailedJobs, formatQueue, formatRetry } from '../../ui-tty/format';
import { exits, UsageError, withConfigOption, type ConfigOption } from './args';
import { askBox } from './running-box';

interface DestinationOptions extends ConfigOption {
  /** The destination as an option, as before it was positional. */
  readonly dest?: string;
}

interface RetryOptions extends DestinationOptions {
  readonly sop?: string;
  readonly study?: string;
}

export function queueCommand(program: Command): void {
  const queue = withConfigOption(
    program
      .command('queue')
      .summary('forward queue per destination; failed jobs; requeue them')
      .description(
        "The running box's forward queue per destination: queued, in flight, failed, the " +
          'oldest waiting and the last error.',
      ),
  ).action(
    exits(async (options: ConfigOption) => {
      process.stdout.write(formatQueue(await askBox(options, { command: 'queue' })));
      return 0;
    }),
  );

  destinationOption(
    queue
      .command('failed')
      .description('The forward jobs that failed for good, most recent first, with why.')
      .argument('[DEST]', 'only those of this destination (a node name)'),
  ).action(
    exits(async (dest: string | undefined, _: unknown, command: Command) => {
      const options = command.optsWithGlobals<DestinationOptions>();
      const destination = destinationOf(dest, options);
      const jobs = await askBox(options, {
        command: 'failed',
        ...(destination ? { destination } : {}),
      });
      process.stdout.write(formatFailedJobs(jobs));
      return 0;
    }),
  );

  destinationOption(
    queue
      .command('retry')
      .description(
        'Queue failed forward jobs again: all of them, those of one destination, of one ' +
          'instance or of one study.',
      )
      .argument('[DEST]', 'only those of this destination (a node name)'),
  )
    .option('--sop <UID>', 'only those of this SOP Instance UID')
    .option('--study <UID>', 'only those of this Study Instance UID')
    .action(
      exits(async (dest: string | undefined, _: unknown, command: Command) => {
        const options = command.optsWithGlobals<RetryOptions>();
        const destination = destinationOf(dest, options);
        const result = await askBox(options, {
          command: 'retry',
          ...(destination ? { destination } : {}),
          ...(options.sop ? { sopInstanceUid: options.sop } : {}),
          ...(options.study ? { studyInstanceUid: options.study } : {}),
        });
        process.stdout.write(`${formatRetry(result)}\n`);
        return 0;
      }),
    );
}

function destinationOption(command: Command): Command {
  return command.option('--dest <NAME>', 'the same as DEST');
}

function destinationOf(dest: string | undefined, options: DestinationOptions): string | undefined {
  if (dest !== undefined && options.dest !== undefined && dest !== options.dest)
    throw new UsageError(`two destinations given: "${dest}" and --dest "${options.dest}"`);
  return dest ?? options.dest;
}
