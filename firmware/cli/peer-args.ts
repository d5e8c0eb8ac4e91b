// How the SCU commands (echo, store, find, move, get, commit) name their peer: HOST PORT
// with --aet/--aec, or --node NAME (a node of the configuration, reached as the box
// reaches it), and the TLS options. DCMTK's spellings of the same options (-aet, +tls KEY
// CERT, +cf, +py …) are rewritten to ours before parsing, so a field engineer's storescu
// habits work unchanged.
import { isDimse } from '../config/config';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { loadConfig } from '../config/load';
import { nodePeer, type PeerAddress } from '../services/open-association';
import type { NodeTlsConfig, TlsProfile } from '../config/tls-config';
import { commandPath, portArg, UsageError, withConfigOption } from './args';

const PROFILES: readonly TlsProfile[] = ['bcp195-nd', 'bcp195', 'bcp195-ex'];

/** DCMTK's option → ours. `+tls KEY CERT` takes two values, so it is rewritten apart. */
const DCMTK_SPELLINGS: Record<string, readonly string[]> = {
  '-aet': ['--aet'],
  '--aetitle': ['--aet'],
  '-aec': ['--aec'],
  '--call': ['--aec'],
  '+tla': ['--anonymous-tls'],
  '+cf': ['--add-cert-file'],
  '+py': ['--tls-profile', 'bcp195-nd'],
  '--profile-bcp195-nd': ['--tls-profile', 'bcp195-nd'],
  '+px': ['--tls-profile', 'bcp195'],
  '--profile-bcp195': ['--tls-profile', 'bcp195'],
  '+pz': ['--tls-profile', 'bcp195-ex'],
  '--profile-bcp195-ex': ['--tls-profile', 'bcp195-ex'],
};

/** The arguments with DCMTK's spellings replaced by ours (nothing after `--` is touched). */
export function fromDcmtkSpellings(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '+tls' || a === '--enable-tls') {
      const [key, cert] = [argv[i + 1], argv[i + 2]];
      if (key === undefined || cert === undefined)
        throw new UsageError(`${a} needs a private key file and a certificate file`);
      out.push('--tls-key', key, '--tls-cert', cert);
      i += 2;
    } else out.push(...(DCMTK_SPELLINGS[a] ?? [a]));
  }
  return out;
}

export interface PeerOptions {
  readonly aet?: string;
  readonly aec: string;
  readonly node?: string;
  readonly config?: string;
  readonly tlsKey?: string;
  readonly tlsCert?: string;
  readonly anonymousTls?: boolean;
  readonly addCertFile?: string;
  readonly tlsProfile: TlsProfile;
}

/** What the SCU commands' help says of the peer after the options (and the man page). */
export const PEER_HELP = `
The peer is HOST PORT, or --node NAME: a node of the configuration, called as the box
calls it (its address, AE titles and TLS). The calling AE title is the configured one
when a configuration is found, else DICOM_EDGE. DCMTK's spellings work too: -aet, -aec,
+tls KEY CERT, +tla, +cf FILE, +py, +px, +pz.`;

/**
 * HOST and PORT, then the command's own positional argument if any (`more`, e.g.
 * "[FILE|DIR...]"). All are optional to commander because --node NAME stands for HOST
 * PORT; peerOf checks what is given.
 */
export function peerArguments(command: Command, more?: string, moreDescription = ''): Command {
  const tail = more ? ` ${more.replace(/^\[(.*)\]$/, '$1')}` : '';
  command
    .usage(
      `[options] HOST PORT${tail}\n       ${commandPath(command)} [options] --node NAME${tail}`,
    )
    .argument('[HOST]', "the peer's host name or address")
    .argument('[PORT]', "the peer's DICOM port");
  return more ? command.argument(more, moreDescription) : command;
}

/** Adds the peer's options to an SCU command. */
export function withPeerOptions(command: Command): Command {
  return withConfigOption(
    command
      .option('--aet <AE>', 'our (calling) AE title')
      .option('--aec <AE>', "the peer's (called) AE title", 'ANY-SCP')
      .option('--node <NAME>', 'call a configured node instead of HOST PORT'),
  )
    .option('--tls-key <FILE>', 'TLS with this client private key (with --tls-cert)')
    .option('--tls-cert <FILE>', 'TLS with this client certificate (with --tls-key)')
    .option('--anonymous-tls', 'TLS without a client certificate')
    .option('--add-cert-file <FILE>', "trust this CA certificate (else the system's)")
    .addOption(
      new Option('--tls-profile <PROFILE>', 'the BCP 195 profile')
        .choices(PROFILES)
        .default('bcp195-nd'),
    )
    .addHelpText('after', PEER_HELP);
}

function tlsOf(o: PeerOptions): NodeTlsConfig | undefined {
  if ((o.tlsKey === undefined) !== (o.tlsCert === undefined))
    throw new UsageError('--tls-key and --tls-cert go together (DCMTK: +tls KEY CERT)');
  if (o.tlsKey === undefined && !o.anonymousTls) {
    if (o.addCertFile) throw new UsageError('--add-cert-file (+cf) needs TLS: +tls or +tla');
    return undefined;
  }
  return {
    ...(o.addCertFile ? { trustedCertificates: path.resolve(o.addCertFile) } : {}),
    ...(o.tlsKey && o.tlsCert
      ? { privateKey: path.resolve(o.tlsKey), certificate: path.resolve(o.tlsCert) }
      : {}),
    profile: o.tlsProfile,
  };
}

/**
 * The peer of an SCU command: `--node NAME`, or HOST PORT from the positionals. Returns
 * the positionals after the peer's. The calling AE title is --aet, else the configured
 * one, so that a peer which knows the box knows the call.
 */
export function peerOf(
  positionals: readonly string[],
  options: PeerOptions,
): { peer: PeerAddress; rest: string[] } {
  const tls = tlsOf(options);
  const { config } = loadConfig(options.config);
  if (options.node !== undefined) {
    const node = config.nodes.find((n) => n.name === options.node);
    if (!node)
      throw new UsageError(
        `no node named "${options.node}" in the configuration (${config.nodes.map((n) => n.name).join(', ') || 'none'})`,
      );
    if (!isDimse(node))
      throw new UsageError(
        `node "${node.name}" is a DICOMweb node (${node.url}), not a DICOM peer`,
      );
    const peer = nodePeer(config, node);
    return { peer: tls ? { ...peer, tls } : peer, rest: [...positionals] };
  }
  const [host, port, ...rest] = positionals;
  if (!host) throw new UsageError('HOST PORT or --node NAME is needed');
  return {
    peer: {
      host,
      port: portArg(port),
      callingAeTitle: options.aet ?? config.ae,
      calledAeTitle: options.aec,
      ...(tls ? { tls } : {}),
    },
    rest,
  };
}
