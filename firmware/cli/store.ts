// `dicom-edge store HOST PORT FILE|DIR... [--aet --aec] [TLS options]`, or `--node NAME
// FILE|DIR...`: per-file result; exit non-zero if any file failed, with the code of the
// first failure's kind (cli/failure.ts).
import type { Command } from 'commander';
import { formatStatus, statusCategory } from '../dicom/dimse/status';
import type { PeerAddress } from '../services/open-association';
import { expandPaths, storeFiles, type StoreResult } from '../services/store-scu';
import { exits, given, UsageError } from './args';
import { describeFailure } from './failure';
import { peerArguments, peerOf, withPeerOptions, type PeerOptions } from './peer-args';

export function storeCommand(program: Command): void {
  withPeerOptions(
    peerArguments(
      program
        .command('store')
        .summary('C-STORE files; exit non-zero if any failed')
        .description(
          'Send DICOM files (folders are walked) with C-STORE, streamed from disk, each as ' +
            'it is stored, in its own transfer syntax. Prints one line per file; if any ' +
            'failed, exits with the code of the first failure: 1 the peer refused it, 3 ' +
            'the peer was not reached, 4 not a DICOM file.',
        ),
      '[FILE|DIR...]',
      'the files to send, or folders of them',
    ),
  ).action(
    exits(
      async (
        host: string | undefined,
        port: string | undefined,
        files: string[] | undefined,
        options: PeerOptions,
      ) => {
        const { peer, rest: paths } = peerOf(given(host, port, files), options);
        if (paths.length === 0) throw new UsageError('no FILE or DIR to send');
        return send(peer, paths);
      },
    ),
  );
}

/** A file's exit code: 1 when the peer refused it, else that of why it was not sent. */
function exitCodeOf(r: StoreResult): number {
  if (r.status !== undefined && statusCategory(r.status) !== 'failure') return 0;
  return r.cause ? describeFailure(r.cause).code : 1;
}

async function send(peer: PeerAddress, paths: string[]): Promise<number> {
  const files = await expandPaths(paths);
  let failed = 0;
  let exitCode = 0;
  const results = await storeFiles(peer, files, (r) => {
    const code = exitCodeOf(r);
    const ok = code === 0;
    if (!ok) failed++;
    if (exitCode === 0) exitCode = code;
    const what = r.status !== undefined ? formatStatus(r.status) : 'not sent';
    process.stdout.write(
      `${ok ? 'OK  ' : 'FAIL'} ${r.path}: ${what}${r.error ? ` - ${r.error}` : ''}\n`,
    );
  });
  process.stdout.write(`${results.length - failed} stored, ${failed} failed\n`);
  return exitCode;
}
