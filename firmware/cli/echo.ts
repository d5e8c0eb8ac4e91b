// `dicom-edge echo HOST PORT [--aet A --aec B] [TLS options] | --node NAME`: exit 0 only on
// Success. A node that answers is news to a running box backing off from it: the box is
// told, and retries at once (no box running: nothing to tell).
import type { Command } from 'commander';
import { ControlCommandError } from '../control/commands';
import { ControlError } from '../control/control-client';
import { formatStatus, Status } from '../dicom/dimse/status';
import { echo } from '../services/echo-scu';
import { exits, given } from './args';
import { peerArguments, peerOf, withPeerOptions, type PeerOptions } from './peer-args';
import { askBox } from './running-box';

export function echoCommand(program: Command): void {
  withPeerOptions(
    peerArguments(
      program
        .command('echo')
        .summary('C-ECHO a peer; exit 0 only on Success')
        .description(
          'Verify a peer with C-ECHO. Exit 0 only when it answers Success. A node (--node) ' +
            "that answers ends a running box's backoff towards it.",
        ),
    ),
  ).action(
    exits(async (host: string | undefined, port: string | undefined, options: PeerOptions) => {
      const { peer } = peerOf(given(host, port), options);
      const status = await echo(peer);
      process.stdout.write(`C-ECHO ${peer.host}:${peer.port}: status ${formatStatus(status)}\n`);
      if (status !== Status.Success) return 1;
      if (options.node !== undefined) await tellTheBox(options, options.node);
      return 0;
    }),
  );
}

/** The node answered: a box backing off from it retries now. Its absence is no error. */
async function tellTheBox(options: PeerOptions, node: string): Promise<void> {
  try {
    const { backoffEnded } = await askBox(options, { command: 'echo-answered', node }, 5000);
    if (backoffEnded)
      process.stdout.write(`the running box was backing off from ${node}: it retries now\n`);
  } catch (err) {
    if (err instanceof ControlError) return; // no box running (or not answering)
    // A box that does not know the command (an older one) or the node: the echo stands.
    if (err instanceof ControlCommandError)
      process.stderr.write(`the running box was not told: ${err.message}\n`);
    else throw err;
  }
}
