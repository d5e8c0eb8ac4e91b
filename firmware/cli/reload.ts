// `dicom-edge reload [--config F]`: the running box reads its config file again, and the
// certificate files it names, as on SIGHUP; says what changed, or why it refused the file.
import type { Command } from 'commander';
import { exits, withConfigOption, type ConfigOption } from './args';
import { askBox } from './running-box';

export function reloadCommand(program: Command): void {
  withConfigOption(
    program
      .command('reload')
      .summary('read the config file and its certificate files again')
      .description(
        'Make the running box read its config file again, and the TLS certificate files ' +
          'it names, as SIGHUP does: what changed is applied as config set applies it. A ' +
          'file that is not valid is refused with the key named, and the box runs on as ' +
          'it was.',
      ),
  ).action(
    exits(async (options: ConfigOption) => {
      const result = await askBox(options, { command: 'reload' });
      const what =
        result.changed.length > 0 ? `reloaded: ${result.changed.join(', ')}` : 'no change';
      process.stdout.write(`${what} (${result.file ?? 'no file'})\n`);
      return 0;
    }),
  );
}
