// Certificates for the TLS tests, made with openssl: a CA; a server certificate for
// 127.0.0.1 and localhost; a client certificate; an expired server certificate; one for
// another host; and a second CA that signed nothing the box trusts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { TlsListenerConfig } from '../../firmware/config/tls-config';

export interface TestCertificates {
  readonly dir: string;
  readonly ca: string;
  readonly server: { cert: string; key: string };
  readonly client: { cert: string; key: string };
  readonly expired: { cert: string; key: string };
  readonly wrongHost: { cert: string; key: string };
  /** Signed by a CA nobody trusts. */
  readonly stranger: { cert: string; key: string };
  /** Valid for 10 more days. */
  readonly expiringSoon: { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

export async function makeCertificates(dir: string): Promise<TestCertificates> {
  await fs.mkdir(dir, { recursive: true });
  const f = (name: string): string => path.join(dir, name);
  const ca = (name: string): void =>
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '30',
    ]);
  const leaf = (name: string, signer: string, cn: string, san: string, days: string) => {
    openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ]);
    execFileSync('sh', ['-c', `printf 'subjectAltName=${san}\\n' > ${name}.ext`], { cwd: dir });
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.crt`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      days,
      '-extfile',
      `${name}.ext`,
    ]);
    return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
  };
  ca('test-ca');
  ca('other-ca');
  return {
    dir,
    ca: f('test-ca.crt'),
    server: leaf('server', 'test-ca', 'dicom-edge test server', 'DNS:localhost,IP:127.0.0.1', '30'),
    client: leaf('client', 'test-ca', 'dicom-edge test client', 'DNS:client.example', '30'),
    expired: leaf('expired', 'test-ca', 'expired server', 'DNS:localhost,IP:127.0.0.1', '-1'),
    wrongHost: leaf('wronghost', 'test-ca', 'elsewhere', 'DNS:elsewhere.example', '30'),
    stranger: leaf('stranger', 'other-ca', 'stranger', 'DNS:localhost,IP:127.0.0.1', '30'),
    expiringSoon: leaf('soon', 'test-ca', 'renew me', 'DNS:localhost,IP:127.0.0.1', '10'),
  };
}

/** The box's TLS listener on `port` with the test server certificate, client certificates required. */
export function listenerTls(certs: TestCertificates, port: number): TlsListenerConfig {
  return {
    port,
    certificate: certs.server.cert,
    privateKey: certs.server.key,
    trustedCertificates: certs.ca,
    clientCertificates: 'required',
    profile: 'bcp195-nd',
  };
}

/** The subject CN of the certificate a TLS listener on 127.0.0.1:port serves now. */
export function servedSubject(port: number, certs: TestCertificates): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      {
        host: '127.0.0.1',
        port,
        rejectUnauthorized: false,
        cert: readFileSync(certs.client.cert),
        key: readFileSync(certs.client.key),
      },
      () => {
        const cn = s.getPeerCertificate().subject.CN;
        s.destroy();
        resolve(String(cn));
      },
    );
    s.on('error', reject);
  });
}
