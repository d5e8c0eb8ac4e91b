// How the SCU commands (echo, store, find, move, get, commit) name their peer: HOST PORT
// with --aet/--aec, or --node NAME (a node of the configuration, reached as the box
// reaches it). And DCMTK's TLS options, spelt as DCMTK spells them: +tls KEY CERT (TLS
// with this client key and certificate), +tla (TLS without a client certificate), +cf FILE
// (trust this CA certificate; the system's CAs otherwise), +py / +px / +pz (the BCP 195
// non-downgrading, plain or extended profile).
// They are taken out of the arguments before the rest are parsed.
import * as path from 'node:path';
import { loadConfig } from '../config/load';
import { nodePeer, type PeerAddress } from '../services/open-association';
import type { NodeTlsConfig, TlsProfile } from '../tls/tls-options';
import { one, portArg, UsageError, type ParsedArgs } from './args';

export const TLS_USAGE = '[+tls KEY CERT | +tla] [+cf CA] [+py|+px|+pz]';

/** How an SCU command names its peer. */
export const PEER_USAGE = `HOST PORT [--aet CALLING] [--aec CALLED] ${TLS_USAGE} | --node NAME [--config F]`;

const PROFILES: Record<string, TlsProfile> = {
  '+py': 'bcp195-nd',
  '+px': 'bcp195',
  '+pz': 'bcp195-ex',
};

export function takeTlsOptions(argv: readonly string[]): {
  rest: string[];
  tls: NodeTlsConfig | undefined;
} {
  const rest: string[] = [];
  let on = false;
  let certificate: string | undefined;
  let privateKey: string | undefined;
  let trustedCertificates: string | undefined;
  let profile: TlsProfile = 'bcp195-nd';
  const value = (i: number, what: string): string => {
    const v = argv[i];
    if (v === undefined) throw new UsageError(`${argv[i - 1]} needs ${what}`);
    return path.resolve(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '+tls' || a === '--enable-tls') {
      on = true;
      privateKey = value(++i, 'a private key file and a certificate file');
      certificate = value(++i, 'a certificate file');
    } else if (a === '+tla' || a === '--anonymous-tls') on = true;
    else if (a === '+cf' || a === '--add-cert-file') trustedCertificates = value(++i, 'a file');
    else if (a in PROFILES) profile = PROFILES[a]!;
    else rest.push(a);
  }
  if (!on) {
    if (trustedCertificates) throw new UsageError('+cf needs +tls or +tla');
    return { rest, tls: undefined };
  }
  return {
    rest,
    tls: {
      ...(trustedCertificates ? { trustedCertificates } : {}),
      ...(certificate && privateKey ? { certificate, privateKey } : {}),
      profile,
    },
  };
}

/**
 * The peer of an SCU command: `--node NAME` (a node of the configuration, as the box
 * calls it: its address, AE titles and TLS), or HOST PORT and --aet/--aec with the TLS
 * options given. Returns the positionals after the peer's.
 */
export function peerOf(
  args: ParsedArgs,
  tls: NodeTlsConfig | undefined,
): { peer: PeerAddress; rest: string[] } {
  const name = args.options.get('--node')?.at(-1);
  if (name !== undefined) {
    const { config } = loadConfig(args.options.get('--config')?.at(-1));
    const node = config.nodes.find((n) => n.name === name);
    if (!node)
      throw new UsageError(
        `no node named "${name}" in the configuration (${config.nodes.map((n) => n.name).join(', ') || 'none'})`,
      );
    const peer = nodePeer(config, node);
    return { peer: tls ? { ...peer, tls } : peer, rest: [...args.positionals] };
  }
  const [host, port, ...rest] = args.positionals;
  if (!host) throw new UsageError('HOST PORT or --node NAME is needed');
  return {
    peer: {
      host,
      port: portArg(port),
      callingAeTitle: one(args, '--aet', one(args, '-aet', 'DICOM_EDGE')),
      calledAeTitle: one(args, '--aec', one(args, '-aec', 'ANY-SCP')),
      ...(tls ? { tls } : {}),
    },
    rest,
  };
}

/** The options peerOf reads. */
export const PEER_OPTIONS = ['--aet', '--aec', '-aet', '-aec', '--node', '--config'];
