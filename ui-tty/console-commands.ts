// The console's command set, shared by the serial console and `dicom-edge console`: one
// typed line in, the text to show out. Every command is a client of the control API (the
// `call` given), so the console can do nothing the box would not allow over its socket.
import type { ConfigView } from '../firmware/config/live-config';
import { isDimse, nodeAddress, nodeUsesTls, type NodeConfig } from '../firmware/config/config';
import {
  parseNodeValue,
  parseValue,
  patchNode,
  putNode,
  removeNode,
  setKey,
} from '../firmware/control/config-edits';
import { runningStatus } from '../firmware/control/commands';
import { closest } from '../firmware/nearest-word';
import type { ControlCall } from '../firmware/control/control-client';
import {
  formatBoxStatus,
  formatCacheReport,
  formatEcho,
  formatEviction,
  formatQueue,
  formatRetry,
} from './format';
import { formatMismatches, formatRefresh, formatWorklistReport } from './worklist-format';

export type { ControlCall };

export const HELP = `commands:
  help                              this list
  status                            identity, associations, cache, queues, recent events
  show config                       the running configuration
  set ae NAME                       change our AE title
  set port N                        change the listening port
  set KEY VALUE                     change any other setting (e.g. set forwarding.idleSeconds 30)
  node list                         the known nodes
  node add NAME AE HOST PORT [forward]   add a node (forward: send it a copy of everything)
  node rm NAME                      remove a node
  node set NAME KEY VALUE           change a node's setting (ae, host, port, associations, ...)
  echo NAME                         C-ECHO the node named NAME
  queue                             forward queue per destination
  retry [NAME]                      requeue failed jobs, end backoffs (of one destination)
  cache                             cache use, watermarks, what may be evicted, what is pinned
  cache protect|unprotect UID       keep a study from eviction (or stop keeping it)
  cache evict dry-run|now           show, or do, an eviction down to the low watermark
  worklist                          the worklist copy: source, state, age, items
  worklist refresh                  replicate the worklist from its source now
  worklist mismatches               instances whose patient differs from their worklist item
  log [N]                           the last N events (default 20)`;

/** The commands' first words, as HELP lists them: what a mistyped one is likely to mean. */
const VERBS = [
  ...new Set(
    HELP.split('\n')
      .slice(1)
      .map((line) => line.trim().split(' ')[0]!),
  ),
];

class ConsoleUsageError extends Error {
  override name = 'ConsoleUsageError';
}

/** Splits a line into words; "double quotes" keep spaces (AE titles may hold them). */
export function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

export class ConsoleCommands {
  constructor(private readonly call: ControlCall) {}

  /** Runs one line; never throws: a failure is the text "error: ...". */
  async run(line: string): Promise<string> {
    const [verb, ...args] = words(line);
    if (verb === undefined) return '';
    try {
      return await this.dispatch(verb.toLowerCase(), args);
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  }

  private async dispatch(verb: string, args: string[]): Promise<string> {
    switch (verb) {
      case 'help':
      case '?':
        return HELP;
      case 'status':
        return formatBoxStatus(runningStatus(await this.call({ command: 'status' }))).trimEnd();
      case 'show':
        if (args[0] !== 'config') throw new ConsoleUsageError('usage: show config');
        return this.showConfig();
      case 'set':
        return this.set(args);
      case 'node':
      case 'nodes':
        return this.node(args);
      case 'echo': {
        const [name] = args;
        if (!name || args.length > 1) throw new ConsoleUsageError('usage: echo NAME');
        try {
          return formatEcho(name, await this.call({ command: 'echo', node: name }));
        } catch (err) {
          return `echo ${name}: failed: ${(err as Error).message}`;
        }
      }
      case 'queue':
        return formatQueue(await this.call({ command: 'queue' })).trimEnd();
      case 'retry': {
        if (args.length > 1) throw new ConsoleUsageError('usage: retry [NAME]');
        const [name] = args;
        const result = await this.call({
          command: 'retry',
          ...(name ? { destination: name } : {}),
        });
        return formatRetry(result);
      }
      case 'cache':
        return this.cache(args);
      case 'worklist':
        return this.worklist(args);
      case 'log': {
        const n = args[0] === undefined ? 20 : Number(args[0]);
        if (!Number.isInteger(n) || n < 1 || args.length > 1)
          throw new ConsoleUsageError('usage: log [N]');
        const { recentEvents } = runningStatus(await this.call({ command: 'status' }));
        return recentEvents.slice(-n).join('\n') || '(no events yet)';
      }
      default: {
        const near = closest(verb, VERBS);
        throw new ConsoleUsageError(
          `unknown command "${verb}"${near ? `; did you mean ${near}?` : ''} (type help)`,
        );
      }
    }
  }

  private async view(): Promise<ConfigView> {
    return this.call({ command: 'config' });
  }

  private async change(set: Record<string, unknown>): Promise<string> {
    const result = await this.call({ command: 'config-set', set });
    const where = result.persisted
      ? `saved to ${result.file}`
      : 'not saved: the box has no config file';
    return `ok: ${result.changed.join(', ') || 'nothing'} changed (${where})`;
  }

  private async showConfig(): Promise<string> {
    const { config, file } = await this.view();
    const lines = [`file: ${file ?? '(none)'}`];
    for (const [key, value] of Object.entries(config)) {
      if (key === 'nodes') continue;
      lines.push(`${key} = ${JSON.stringify(value)}`);
    }
    lines.push(config.nodes.length === 0 ? 'nodes: (none)' : 'nodes:');
    lines.push(...config.nodes.map((n) => `  ${formatNode(n)}`));
    return lines.join('\n');
  }

  private async set(args: string[]): Promise<string> {
    const [key, ...rest] = args;
    if (!key || rest.length === 0) throw new ConsoleUsageError('usage: set KEY VALUE');
    const text = rest.join(' ');
    const { config, document } = await this.view();
    // A setting that is text now stays text ("set ae 1234" is an AE title, not a number).
    const current: unknown = (config as unknown as Record<string, unknown>)[key.split('.')[0]!];
    const value = typeof current === 'string' && !key.includes('.') ? text : parseValue(text);
    return this.change(setKey(document, key, value));
  }

  private async node(args: string[]): Promise<string> {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === 'list') {
      const { config } = await this.view();
      return config.nodes.length === 0 ? '(no nodes)' : config.nodes.map(formatNode).join('\n');
    }
    if (sub === 'add') {
      const [name, ae, host, port, flag] = rest;
      if (!name || !ae || !host || !port || rest.length > 5 || (flag && flag !== 'forward'))
        throw new ConsoleUsageError('usage: node add NAME AE HOST PORT [forward]');
      const { document, config } = await this.view();
      if (config.nodes.some((n) => n.name === name))
        throw new ConsoleUsageError(
          `a node named "${name}" exists: change it with node set ${name} KEY VALUE`,
        );
      return this.change(
        putNode(document, { name, ae, host, port: parseValue(port), forward: flag === 'forward' }),
      );
    }
    if (sub === 'set') {
      const [name, key, ...value] = rest;
      if (!name || !key || value.length === 0)
        throw new ConsoleUsageError(
          'usage: node set NAME KEY VALUE (e.g. node set pacs port 11112)',
        );
      const patch = { [key]: parseNodeValue(key, value.join(' ')) };
      return this.change(patchNode((await this.view()).document, name, patch));
    }
    if (sub === 'rm' || sub === 'remove') {
      const [name] = rest;
      if (!name || rest.length > 1) throw new ConsoleUsageError('usage: node rm NAME');
      return this.change(removeNode((await this.view()).document, name));
    }
    throw new ConsoleUsageError(
      'usage: node list | node add NAME AE HOST PORT [forward] | node set NAME KEY VALUE | node rm NAME',
    );
  }

  private async cache(args: string[]): Promise<string> {
    const [sub, arg, ...extra] = args;
    if (sub === undefined)
      return formatCacheReport(await this.call({ command: 'cache' })).trimEnd();
    if ((sub === 'protect' || sub === 'unprotect') && arg && extra.length === 0) {
      await this.call({ command: 'cache-protect', study: arg, protect: sub === 'protect' });
      return `study ${arg} ${sub === 'protect' ? 'protected' : 'no longer protected'}`;
    }
    if (sub === 'evict' && (arg === 'dry-run' || arg === 'now') && extra.length === 0) {
      const report = await this.call({ command: 'cache-evict', dryRun: arg === 'dry-run' });
      return formatEviction(report).trimEnd();
    }
    throw new ConsoleUsageError('usage: cache [protect UID | unprotect UID | evict dry-run|now]');
  }

  private async worklist(args: string[]): Promise<string> {
    const [sub, ...extra] = args;
    if (extra.length > 0 || (sub !== undefined && sub !== 'refresh' && sub !== 'mismatches'))
      throw new ConsoleUsageError('usage: worklist [refresh | mismatches]');
    if (sub === 'refresh') {
      const { refresh, status } = await this.call({ command: 'worklist-refresh' });
      return formatRefresh(refresh, status).trimEnd();
    }
    if (sub === 'mismatches')
      return formatMismatches(await this.call({ command: 'worklist-mismatches' })).trimEnd();
    return formatWorklistReport(await this.call({ command: 'worklist' })).trimEnd();
  }
}

/** A node on one line: name, address, "tls", "forward", and the associations when set. */
export function formatNode(n: NodeConfig): string {
  const associations = isDimse(n) ? n.associations : undefined;
  return (
    `${n.name}  ${nodeAddress(n)}${nodeUsesTls(n) ? '  tls' : ''}${n.forward ? '  forward' : ''}` +
    (associations === undefined
      ? ''
      : `  ${associations} association${associations === 1 ? '' : 's'}`)
  );
}
