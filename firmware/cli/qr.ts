// `dicom-edge find|move|get HOST PORT -k KEY[=VALUE]... [--level L] [--root study|patient]`
// `move` needs --dest AE; `get` writes to --out DIR. Each prints what the peer answered
// and exits non-zero unless the final status is Success.
import type { Element } from '../dicom/dataset/dataset-writer';
import { formatTag } from '../dicom/dataset/element-header';
import { formatStatus, Status } from '../dicom/dimse/status';
import { lookupTag } from '../dicom/registry/dictionary';
import { identifierFrom, KeyError } from '../services/qr/keys';
import { findScu, getScu, moveScu, type Root, type SubOperationCounts } from '../services/qr-scu';
import { one, parseArgs, UsageError } from './args';
import { PEER_OPTIONS, peerOf, takeTlsOptions } from './peer-args';

const VALUED = [...PEER_OPTIONS, '-k', '--key', '--level', '--root', '--dest', '--out'];

function common(argv: readonly string[], usage: string) {
  const { rest, tls } = takeTlsOptions(argv);
  const args = parseArgs(rest, VALUED);
  if (args.positionals.length === 0 && !args.options.has('--node')) throw new UsageError(usage);
  const { peer } = peerOf(args, tls);
  const root = one(args, '--root', 'study') as Root;
  if (root !== 'study' && root !== 'patient') throw new UsageError('--root is study or patient');
  const level = one(args, '--level', root === 'patient' ? 'PATIENT' : 'STUDY').toUpperCase();
  let identifier: Element[];
  try {
    identifier = identifierFrom(
      [...(args.options.get('-k') ?? []), ...(args.options.get('--key') ?? [])],
      level,
    );
  } catch (err) {
    if (err instanceof KeyError) throw new UsageError(err.message);
    throw err;
  }
  return { args, peer, root, identifier };
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

export async function findCommand(argv: readonly string[]): Promise<number> {
  const { peer, root, identifier } = common(
    argv,
    'usage: dicom-edge find HOST PORT -k KEY[=VALUE]... [--level L] [--root study|patient]',
  );
  let n = 0;
  const status = await findScu(peer, root, identifier, (elements) => {
    n++;
    process.stdout.write(`# match ${n}\n${elements.map(describe).join('\n')}\n`);
  });
  process.stdout.write(`C-FIND: ${n} match(es), final status ${formatStatus(status)}\n`);
  return status === Status.Success ? 0 : 1;
}

export async function moveCommand(argv: readonly string[]): Promise<number> {
  const { args, peer, root, identifier } = common(
    argv,
    'usage: dicom-edge move HOST PORT --dest AE -k KEY=VALUE... [--level L]',
  );
  const dest = one(args, '--dest', '');
  if (!dest) throw new UsageError('move needs --dest AE (the move destination)');
  const result = await moveScu(peer, root, dest, identifier, (c) =>
    process.stdout.write(`pending: ${countsLine(c)}\n`),
  );
  process.stdout.write(
    `C-MOVE to ${dest}: final status ${formatStatus(result.status)}, ${countsLine(result.counts)}` +
      `${result.errorComment ? ` - ${result.errorComment}` : ''}\n`,
  );
  return result.status === Status.Success ? 0 : 1;
}

export async function getCommand(argv: readonly string[]): Promise<number> {
  const { args, peer, root, identifier } = common(
    argv,
    'usage: dicom-edge get HOST PORT --out DIR -k KEY=VALUE... [--level L]',
  );
  const out = one(args, '--out', '');
  if (!out) throw new UsageError('get needs --out DIR');
  const result = await getScu(peer, root, identifier, out, (c) =>
    process.stdout.write(`pending: ${countsLine(c)}\n`),
  );
  for (const f of result.received ?? []) process.stdout.write(`received ${f}\n`);
  process.stdout.write(
    `C-GET: final status ${formatStatus(result.status)}, ${countsLine(result.counts)}` +
      `${result.errorComment ? ` - ${result.errorComment}` : ''}\n`,
  );
  return result.status === Status.Success ? 0 : 1;
}
