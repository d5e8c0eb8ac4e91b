// `dicom-edge node [list]`, `node add NAME AE HOST PORT [forward] [--forward]
// [--associations N]`, `node add-dicomweb NAME URL [forward] [--forward]`, `node rm NAME`,
// `node set NAME KEY=VALUE...`: the running box's nodes, one at a time, instead of
// rewriting the whole `nodes` array with config set. Each change goes through the same
// checked, atomic config-set the dashboard and the console use.
import { Argument, type Command } from 'commander';
import type { ConfigDocument } from '../config/config-file';
import {
  parseNodeValue,
  parseValue,
  patchNode,
  putNode,
  removeNode,
} from '../control/config-edits';
import { formatNode } from '../../ui-tty/console-commands';
import { exits, UsageError, withConfigOption, type ConfigOption } from './args';
import { applyChange } from './config';
import { askBox } from './running-box';

interface AddOptions extends ConfigOption {
  readonly forward?: boolean;
  /** Associations it is forwarded over at once (the schema checks the number). */
  readonly associations?: string;
}

export function nodeCommand(program: Command): void {
  const node = withConfigOption(
    program
      .command('node')
      .summary("list, add, remove or change the running box's nodes")
      .description(
        'The nodes the box knows (the peers it forwards to, accepts and moves to), one per ' +
          'line: name, AE@host:port (or URL), "tls" when the box reaches it over TLS, and ' +
          '"forward" when it gets a copy of everything.',
      ),
  ).action(
    exits(async (options: ConfigOption) => {
      return list(options);
    }),
  );
  nodeListCommand(node);
  nodeAddCommand(node);
  nodeAddDicomwebCommand(node);
  nodeRmCommand(node);
  nodeSetCommand(node);
}

/** `node list`: the nodes, as `node` alone shows them. */
function nodeListCommand(node: Command): void {
  node
    .command('list')
    .description('The nodes, one per line.')
    .action(exits((_: unknown, command: Command) => list(command.optsWithGlobals<ConfigOption>())));
}

/** `node add NAME AE HOST PORT [forward] [--forward]`: a DICOM node. */
function nodeAddCommand(node: Command): void {
  node
    .command('add')
    .description('Add a DICOM node. Its other settings: dicom-edge node set NAME KEY=VALUE.')
    .argument('<NAME>', 'the name the box and its commands call it by')
    .argument('<AE>', 'its AE title')
    .argument('<HOST>', 'its host name or address')
    .argument('<PORT>', 'its DICOM port')
    .addArgument(forwardWord())
    .option('--forward', 'forward every instance received to it')
    .option(
      '--associations <N>',
      'forward over up to N associations at once (1-16; 4 when not said; 1 for a PACS that takes only one)',
    )
    .action(
      exits(
        async (
          name: string,
          ae: string,
          host: string,
          port: string,
          word: string | undefined,
          _: unknown,
          command: Command,
        ) =>
          addNode(command.optsWithGlobals<AddOptions>(), word, {
            name,
            ae,
            host,
            port: parseValue(port),
            ...associationsOf(command.opts<AddOptions>()),
          }),
      ),
    );
}

/** `node add-dicomweb NAME URL [forward] [--forward]`: a STOW-RS destination. */
function nodeAddDicomwebCommand(node: Command): void {
  node
    .command('add-dicomweb')
    .description(
      'Add a DICOMweb (STOW-RS) destination. Credentials, headers, TLS and batch limits: ' +
        'dicom-edge node set NAME KEY=VALUE, e.g. auth=\'{"type":"bearer","tokenFile":"/etc/dicom-edge/cloud.token"}\'.',
    )
    .argument('<NAME>', 'the name the box and its commands call it by')
    .argument('<URL>', "the service's base URL, e.g. https://archive.example/dicom-web")
    .addArgument(forwardWord())
    .option('--forward', 'forward every instance received to it')
    .action(
      exits(
        async (name: string, url: string, word: string | undefined, _: unknown, command: Command) =>
          addNode(command.optsWithGlobals<AddOptions>(), word, { name, kind: 'dicomweb', url }),
      ),
    );
}

/** `node rm NAME` (or `remove`). */
function nodeRmCommand(node: Command): void {
  node
    .command('rm')
    .alias('remove')
    .description('Remove a node. Its queued forward jobs stay until it is added again.')
    .argument('<NAME>', 'the node')
    .action(
      exits(async (name: string, _: unknown, command: Command) => {
        const options = command.optsWithGlobals<ConfigOption>();
        const { document } = await askBox(options, { command: 'config' });
        return applyChange(options, removeNode(document, name));
      }),
    );
}

/** `node set NAME KEY=VALUE...`: a patch on one node. */
function nodeSetCommand(node: Command): void {
  node
    .command('set')
    .description(
      "Change a node's settings: ae, host, port, forward, forwardWhen, maxBytesPerSecond, " +
        'requestCommit, associations, asyncOperations, tls, name. VALUE is JSON when it ' +
        'parses as JSON, else text.',
    )
    .argument('<NAME>', 'the node')
    .argument('<KEY=VALUE...>', 'a setting of the node, e.g. port=11112 or forward=false')
    .action(
      exits(async (name: string, assignments: string[], _: unknown, command: Command) => {
        const options = command.optsWithGlobals<ConfigOption>();
        const patch: Record<string, unknown> = {};
        for (const a of assignments) {
          const eq = a.indexOf('=');
          if (eq <= 0) throw new UsageError(`"${a}" is not KEY=VALUE`);
          patch[a.slice(0, eq)] = parseNodeValue(a.slice(0, eq), a.slice(eq + 1));
        }
        const { document } = await askBox(options, { command: 'config' });
        return applyChange(options, patchNode(document, name, patch));
      }),
    );
}

/**
 * The console's `node add NAME AE HOST PORT forward` (the clinic page prints that line): the
 * word means --forward here too, and any other word is refused, never taken as "no".
 */
function forwardWord(): Argument {
  return new Argument('[forward]', 'the same as --forward').choices(['forward']);
}

/** `--associations N` as the node's key (a word that is no number is the schema's to refuse). */
function associationsOf(options: AddOptions): { associations?: unknown } {
  return options.associations === undefined
    ? {}
    : { associations: parseValue(options.associations) };
}

/** Adds a node the box does not know yet; the box checks the rest. */
async function addNode(
  options: AddOptions,
  word: string | undefined,
  node: Record<string, unknown>,
): Promise<number> {
  const { document } = await askBox(options, { command: 'config' });
  const name = String(node.name);
  if (nodesOf(document).some((n) => n.name === name))
    throw new UsageError(
      `a node named "${name}" exists: change it with node set ${name} KEY=VALUE`,
    );
  return applyChange(
    options,
    putNode(document, { ...node, forward: !!options.forward || word === 'forward' }),
  );
}

async function list(options: ConfigOption): Promise<number> {
  const { config } = await askBox(options, { command: 'config' });
  process.stdout.write(
    config.nodes.length === 0 ? '(no nodes)\n' : `${config.nodes.map(formatNode).join('\n')}\n`,
  );
  return 0;
}

function nodesOf(document: ConfigDocument): Array<Record<string, unknown>> {
  return Array.isArray(document.nodes) ? (document.nodes as Array<Record<string, unknown>>) : [];
}
