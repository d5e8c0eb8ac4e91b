// `dicom-edge echo HOST PORT [--aet A --aec B] [TLS options] | --node NAME`: exit 0 only on
// Success.
import { formatStatus, Status } from '../dicom/dimse/status';
import { echo } from '../services/echo-scu';
import { parseArgs, UsageError } from './args';
import { PEER_OPTIONS, PEER_USAGE, peerOf, takeTlsOptions } from './peer-args';

export async function echoCommand(argv: readonly string[]): Promise<number> {
  const { rest, tls } = takeTlsOptions(argv);
  const args = parseArgs(rest, PEER_OPTIONS);
  if (args.positionals.length === 0 && !args.options.has('--node'))
    throw new UsageError(`usage: dicom-edge echo ${PEER_USAGE}`);
  const { peer } = peerOf(args, tls);
  const status = await echo(peer);
  process.stdout.write(`C-ECHO ${peer.host}:${peer.port}: status ${formatStatus(status)}\n`);
  return status === Status.Success ? 0 : 1;
}
