// `dicom-edge commit HOST PORT FILE|DIR... [--aet --aec] [--timeout S] [--config F]`: asks
// the peer to commit to keeping these instances and prints its report; exit 0 only if all
// committed. The report is taken from the association, or — when the peer reports to our
// AE's listener, as Orthanc does — from the running box found by --config.
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import { requestCommitment } from '../services/commitment/commitment-scu';
import { expandPaths, readStoreFile } from '../services/store-scu';
import { one, parseArgs, UsageError } from './args';
import { PEER_OPTIONS, PEER_USAGE, peerOf, takeTlsOptions } from './peer-args';

export async function commitCommand(argv: readonly string[]): Promise<number> {
  const { rest, tls } = takeTlsOptions(argv);
  const args = parseArgs(rest, [...PEER_OPTIONS, '--timeout']);
  const { peer, rest: paths } = peerOf(args, tls);
  if (paths.length === 0)
    throw new UsageError(`usage: dicom-edge commit ${PEER_USAGE} FILE|DIR... [--timeout S]`);
  const timeout = Number(one(args, '--timeout', '60'));
  if (!(timeout > 0)) throw new UsageError('--timeout is a number of seconds');
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
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
