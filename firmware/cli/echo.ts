// `dicom-edge echo HOST PORT [--aet A --aec B] [TLS options]`: exit 0 only on Success.
import { formatStatus, Status } from '../dicom/dimse/status';
import { echo } from '../services/echo-scu';
import { one, parseArgs, portArg, UsageError } from './args';
import { takeTlsOptions, TLS_USAGE } from './tls-args';

export async function echoCommand(argv: readonly string[]): Promise<number> {
  const { rest, tls } = takeTlsOptions(argv);
  const args = parseArgs(rest, ['--aet', '--aec', '-aet', '-aec']);
  const [host, port] = args.positionals;
  if (!host)
    throw new UsageError(
      `usage: dicom-edge echo HOST PORT [--aet CALLING] [--aec CALLED] ${TLS_USAGE}`,
    );
  const status = await echo({
    host,
    port: portArg(port),
    callingAeTitle: one(args, '--aet', one(args, '-aet', 'DICOM_EDGE')),
    calledAeTitle: one(args, '--aec', one(args, '-aec', 'ANY-SCP')),
    ...(tls ? { tls } : {}),
  });
  process.stdout.write(`C-ECHO ${host}:${port}: status ${formatStatus(status)}\n`);
  return status === Status.Success ? 0 : 1;
}
