// `dicom-edge commit HOST PORT FILE|DIR... [--aet --aec] [--timeout S] [--config F]`: asks
// the peer to commit to keeping these instances and prints its report; exit 0 only if all
// committed. The report is taken from the association, or — when the peer reports to our
// AE's listener, as Orthanc does — from the running box found by --config.
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import { requestCommitment } from '../services/commitment/commitment-scu';
import { expandPaths, readStoreFile } from '../services/store-scu';
import type { Command } from 'commander';
import { exits, given, UsageError } from './args';
import { peerArguments, peerOf, withPeerOptions, type PeerOptions } from './peer-args';

interface CommitOptions extends PeerOptions {
  readonly timeout: string;
}

export function commitCommand(program: Command): void {
  withPeerOptions(
    peerArguments(
      program
        .command('commit')
        .summary('ask a peer for storage commitment; exit 0 only if all committed')
        .description(
          'Ask a peer to commit to keeping these instances (Storage Commitment Push Model) ' +
            'and print its report. The report is taken on the association, or from the running ' +
            "box when the peer reports to the box's listener (as Orthanc does). Exit 0 only " +
            'if all were committed.',
        ),
      '[FILE|DIR...]',
      'the instances to ask about (their files, or folders of them)',
    ),
  )
    .option('--timeout <SECONDS>', 'how long to wait for the report', '60')
    .action(
      exits(
        async (
          host: string | undefined,
          port: string | undefined,
          files: string[] | undefined,
          options: CommitOptions,
        ) => commit(given(host, port, files), options),
      ),
    );
}

async function commit(positionals: string[], options: CommitOptions): Promise<number> {
  const { peer, rest: paths } = peerOf(positionals, options);
  if (paths.length === 0) throw new UsageError('no FILE or DIR to ask about');
  const timeout = Number(options.timeout);
  if (!(timeout > 0))
    throw new UsageError(`--timeout is a number of seconds, not "${options.timeout}"`);
  const { config } = loadConfig(options.config);
  const instances = [];
  for (const f of await expandPaths(paths)) {
    const file = await readStoreFile(f);
    instances.push({ sopClassUid: file.sopClassUid, sopInstanceUid: file.sopInstanceUid });
  }
  const report = await requestCommitment(
    peer,
    instances,
    timeout * 1000,
    // A peer may report to the box's listener instead (as Orthanc does): ask the running box.
    async (transaction) => {
      const found = (await controlRequest(
        config.storageDir,
        { command: 'commit-report', transaction },
        2000,
      )) as {
        eventTypeId: number;
        committed: string[];
        failed: Array<{ sopInstanceUid: string; reason: number }>;
      } | null;
      return found ? { transactionUid: transaction, ...found } : undefined;
    },
  );
  for (const sop of report.committed) process.stdout.write(`committed ${sop}\n`);
  for (const f of report.failed)
    process.stdout.write(
      `FAILED    ${f.sopInstanceUid} (reason 0x${f.reason.toString(16).padStart(4, '0')})\n`,
    );
  process.stdout.write(
    `transaction ${report.transactionUid}: event type ${report.eventTypeId}, ${report.committed.length} committed, ${report.failed.length} failed\n`,
  );
  return report.failed.length === 0 && report.committed.length === instances.length ? 0 : 1;
}
