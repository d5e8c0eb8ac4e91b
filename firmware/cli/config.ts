// `dicom-edge config [--config F]`: the running box's configuration.
// `dicom-edge config set KEY=VALUE... [--config F]`: change it live (validated, written to
// the box's config file atomically, refused as a whole with the key named if any is wrong).
import type { Command } from 'commander';
import { parseValue, setKey, type ConfigSet } from '../control/config-edits';
import { exits, UsageError, withConfigOption, type ConfigOption } from './args';
import { askBox } from './running-box';

export function configCommand(program: Command): void {
  const config = withConfigOption(
    program
      .command('config')
      .summary("show or change the running box's configuration")
      .description("The running box's configuration, as it runs, and the file it came from."),
  ).action(
    exits(async (options: ConfigOption) => {
      const view = await askBox(options, { command: 'config' });
      process.stdout.write(
        `# file: ${view.file ?? '(none)'}\n${JSON.stringify(view.config, null, 2)}\n`,
      );
      return 0;
    }),
  );

  config
    .command('set')
    .description(
      'Change settings of the running box, all or none: each is checked, the box applies ' +
        'them live and writes its config file atomically. VALUE is JSON when it parses as ' +
        'JSON (104, true, {...}), else text. Nodes: see dicom-edge node.',
    )
    .argument('<KEY=VALUE...>', 'a setting (KEY or SECTION.KEY, e.g. cache.keepDays=30)')
    .action(
      exits(async (assignments: string[], _: unknown, command: Command) => {
        const options = command.optsWithGlobals<ConfigOption>();
        const view = await askBox(options, { command: 'config' });
        let set: ConfigSet = {};
        for (const a of assignments) {
          const eq = a.indexOf('=');
          if (eq <= 0) throw new UsageError(`"${a}" is not KEY=VALUE`);
          const doc = { ...view.document, ...set };
          set = { ...set, ...setKey(doc, a.slice(0, eq), parseValue(a.slice(eq + 1))) };
        }
        return applyChange(options, set);
      }),
    );
}

/** Sends a change to the running box and says what it changed and where it was written. */
export async function applyChange(options: ConfigOption, set: ConfigSet): Promise<number> {
  const result = await askBox(options, { command: 'config-set', set });
  process.stdout.write(
    `changed: ${result.changed.join(', ') || '(nothing)'}${result.persisted ? ` (written to ${result.file})` : ' (not persisted)'}\n`,
  );
  return 0;
}
