// `dicom-edge echo HOST PORT [--aet A --aec B] [TLS options] | --node NAME`: exit 0 only on
// Success.
import type { Command } from 'commander';
import { formatStatus, Status } from '../dicom/dimse/status';
import { echo } from '../services/echo-scu';
import { exits, given } from './args';
import { peerArguments, peerOf, withPeerOptions, type PeerOptions } from './peer-args';

export function echoCommand(program: Command): void {
  withPeerOptions(
    peerArguments(
      program
        .command('echo')
        .summary('C-ECHO a peer; exit 0 only on Success')
        .description('Verify a peer with C-ECHO. Exit 0 only when it answers Success.'),
    ),
  ).action(
    exits(async (host: string | undefined, port: string | undefined, options: PeerOptions) => {
      const { peer } = peerOf(given(host, port), options);
      const status = await echo(peer);
      process.stdout.write(`C-ECHO ${peer.host}:${peer.port}: status ${formatStatus(status)}\n`);
      return status === Status.Success ? 0 : 1;
    }),
  );
}
