// `dicom-edge find|move|get HOST PORT -k KEY[=VALUE]... [--level L] [--root study|patient]`
// `move` needs --dest AE; `get` writes to --out DIR. Each prints what the peer answered,
// its error comment included, and exits non-zero unless the final status is Success.
import { Option, type Command } from 'commander';
import type { Element } from '../dicom/dataset/dataset-writer';
import { formatTag } from '../dicom/dataset/element-header';
import { formatStatus, Status } from '../dicom/dimse/status';
import { lookupTag } from '../dicom/registry/dictionary';
import type { PeerAddress } from '../services/open-association';
import { identifierFrom, KeyError } from '../services/qr/keys';
import {
  findScu,
  getScu,
  moveScu,
  type RetrieveResult,
  type Root,
  type SubOperationCounts,
} from '../services/qr-scu';
import { collect, exits, given, UsageError } from './args';
import { peerArguments, peerOf, withPeerOptions, type PeerOptions } from './peer-args';

interface QueryOptions extends PeerOptions {
  readonly key?: string[];
  readonly level?: string;
  readonly root: Root;
  readonly dest?: string;
  readonly out?: string;
}

interface Query {
  readonly peer: PeerAddress;
  readonly root: Root;
  readonly identifier: Element[];
  readonly options: QueryOptions;
}

/** The parts find, move and get share: the peer, the keys, the level and the root. */
function queryCommand(
  program: Command,
  name: string,
  summary: string,
  description: string,
  run: (query: Query) => Promise<number>,
): Command {
  return withPeerOptions(
    peerArguments(program.command(name).summary(summary).description(description)),
  )
    .option(
      '-k, --key <KEY[=VALUE]>',
      'a key: 0010,0020=ID or PatientID=ID; without =VALUE asks for it back (repeatable)',
      collect,
    )
    .option(
      '--level <LEVEL>',
      'PATIENT, STUDY, SERIES or IMAGE (default: STUDY, or PATIENT with --root patient)',
    )
    .addOption(
      new Option('--root <ROOT>', 'the information model')
        .choices(['study', 'patient'])
        .default('study'),
    )
    .action(
      exits(async (host: string | undefined, port: string | undefined, options: QueryOptions) => {
        const { peer } = peerOf(given(host, port), options);
        const level = (
          options.level ?? (options.root === 'patient' ? 'PATIENT' : 'STUDY')
        ).toUpperCase();
        let identifier: Element[];
        try {
          identifier = identifierFrom(options.key ?? [], level);
        } catch (err) {
          if (err instanceof KeyError) throw new UsageError(err.message);
          throw err;
        }
        return run({ peer, root: options.root, identifier, options });
      }),
    );
}

function describe(e: Element): string {
  const keyword = lookupTag(e.tag)?.keyword ?? '?';
  const value = Buffer.isBuffer(e.value)
    ? e.value.toString('utf8').replace(/[\0 ]+$/, '')
    : Array.isArray(e.value)
      ? `(sequence, ${e.value.length} items)`
      : String(e.value);
  return `${formatTag(e.tag)} ${keyword} ${e.vr} [${value}]`;
}

function countsLine(c: SubOperationCounts): string {
  return `remaining ${c.remaining ?? '-'}, completed ${c.completed ?? 0}, failed ${c.failed ?? 0}, warning ${c.warning ?? 0}`;
}

export function findCommand(program: Command): void {
  queryCommand(
    program,
    'find',
    'C-FIND: print what matches the keys',
    'Query a peer with C-FIND and print each match. Exit 0 only on a final Success.',
    async ({ peer, root, identifier }) => {
      let n = 0;
      const result = await findScu(peer, root, identifier, (elements) => {
        n++;
        process.stdout.write(`# match ${n}\n${elements.map(describe).join('\n')}\n`);
      });
      process.stdout.write(
        `C-FIND: ${n} match(es), final status ${formatStatus(result.status)}${comment(result.errorComment)}\n`,
      );
      return result.status === Status.Success ? 0 : 1;
    },
  );
}

export function moveCommand(program: Command): void {
  queryCommand(
    program,
    'move',
    'C-MOVE: have the peer send what matches to an AE',
    'Ask a peer with C-MOVE to send what matches the keys to the AE title --dest (the box ' +
      "takes one of its nodes' names too). Exit 0 only on a final Success.",
    async ({ peer, root, identifier, options }) => {
      const dest = options.dest;
      if (!dest) throw new UsageError('move needs --dest AE (the move destination)');
      return said(`C-MOVE to ${dest}`, await moveScu(peer, root, dest, identifier, pending));
    },
  ).option('--dest <AE>', 'the move destination: an AE title the peer knows');
}

export function getCommand(program: Command): void {
  queryCommand(
    program,
    'get',
    'C-GET: fetch what matches into a folder',
    'Fetch what matches the keys with C-GET into the folder --out (made if missing), one ' +
      'file per instance. Exit 0 only on a final Success.',
    async ({ peer, root, identifier, options }) => {
      const out = options.out;
      if (!out) throw new UsageError('get needs --out DIR');
      return said('C-GET', await getScu(peer, root, identifier, out, pending));
    },
  ).option('--out <DIR>', 'the folder to write the instances to');
}

function pending(counts: SubOperationCounts): void {
  process.stdout.write(`pending: ${countsLine(counts)}\n`);
}

/** A retrieve's outcome: the files received (C-GET), the final status, counts and comment. */
function said(what: string, result: RetrieveResult): number {
  for (const f of result.received ?? []) process.stdout.write(`received ${f}\n`);
  process.stdout.write(
    `${what}: final status ${formatStatus(result.status)}, ${countsLine(result.counts)}${comment(result.errorComment)}\n`,
  );
  return result.status === Status.Success ? 0 : 1;
}

function comment(errorComment: string | undefined): string {
  return errorComment ? ` - ${errorComment}` : '';
}
