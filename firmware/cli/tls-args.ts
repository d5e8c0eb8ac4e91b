// DCMTK's TLS options for the SCU commands (echo, store, find, move, get, commit), spelt as
// DCMTK spells them: +tls KEY CERT (TLS with this client key and certificate), +tla (TLS
// without a client certificate), +cf FILE (trust this CA certificate; the system's CAs
// otherwise), +py / +px / +pz (the BCP 195 non-downgrading, plain or extended profile).
// They are taken out of the arguments before the rest are parsed.
import * as path from 'node:path';
import type { NodeTlsConfig, TlsProfile } from '../tls/tls-options';
import { UsageError } from './args';

export const TLS_USAGE = '[+tls KEY CERT | +tla] [+cf CA] [+py|+px|+pz]';

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
