// `dicom-edge config [--config F]`: the running box's configuration.
// `dicom-edge config set KEY=VALUE... [--config F]`: change it live (validated, written to
// the box's config file atomically, refused as a whole with the key named if any is wrong).
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import { parseValue, setKey, type ConfigSet } from '../control/config-edits';
import { one, parseArgs, UsageError } from './args';

export async function configCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config']);
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  const [verb, ...assignments] = args.positionals;
  const view = await controlRequest(config.storageDir, { command: 'config' });
  if (verb === undefined) {
    process.stdout.write(
      `# file: ${view.file ?? '(none)'}\n${JSON.stringify(view.config, null, 2)}\n`,
    );
    return 0;
  }
  if (verb !== 'set' || assignments.length === 0)
    throw new UsageError('usage: dicom-edge config [set KEY=VALUE...]');
  let set: ConfigSet = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${a}" is not KEY=VALUE`);
    const doc = { ...view.document, ...set };
    set = { ...set, ...setKey(doc, a.slice(0, eq), parseValue(a.slice(eq + 1))) };
  }
  const result = await controlRequest(config.storageDir, {
    command: 'config-set',
    set,
  });
  process.stdout.write(
    `changed: ${result.changed.join(', ') || '(nothing)'}${result.persisted ? ` (written to ${result.file})` : ' (not persisted)'}\n`,
  );
  return 0;
}
