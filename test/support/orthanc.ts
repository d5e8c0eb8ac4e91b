// Orthanc (Debian's package) as a test peer: its own temp dirs, DICOM and HTTP on
// 127.0.0.1, TCP_NODELAY=1, stopped (or killed) by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { freePort, PEER_ENV, tempDir, waitForPort } from './peers';
import { logOutput } from './peer-logs';

export interface OrthancModality {
  readonly ae: string;
  readonly host: string;
  readonly port: number;
  /** Orthanc reaches it over DICOM TLS (needs the `tls` option). */
  readonly tls?: boolean;
}

/** Orthanc's DICOM TLS (1.9+): its DICOM port speaks TLS only, with these PEM files. */
export interface OrthancTls {
  readonly certificate: string;
  readonly privateKey: string;
  readonly trustedCertificates: string;
}

export interface OrthancPeer {
  readonly ae: string;
  readonly dicomPort: number;
  readonly httpPort: number;
  readonly dir: string;
  /** The running Orthanc's process id (a new one after restart()). */
  readonly pid: number;
  /** GET/POST against the REST API; resolves with the body. */
  rest(method: 'GET' | 'POST' | 'DELETE', urlPath: string, body?: string | Buffer): Promise<Buffer>;
  /** The stored Part 10 file of an instance, by SOP Instance UID (undefined if absent). */
  fileOf(sopInstanceUid: string): Promise<Buffer | undefined>;
  instanceCount(): Promise<number>;
  stop(): Promise<void>;
  kill(): void;
  restart(): Promise<void>;
}

const ORTHANC = '/usr/sbin/Orthanc';

export async function startOrthanc(
  options: {
    ae?: string;
    modalities?: Record<string, OrthancModality>;
    dir?: string;
    dicomPort?: number;
    httpPort?: number;
    tls?: OrthancTls;
    /** Load Debian's DICOMweb plugin: STOW-RS and QIDO-RS under /dicom-web/. */
    dicomweb?: boolean;
    /** HTTP basic authentication with these users (the first is used by rest()). */
    users?: Record<string, string>;
    /** More environment for the Orthanc process (a preloaded library, for benchmarks). */
    env?: Record<string, string>;
  } = {},
): Promise<OrthancPeer> {
  const ae = options.ae ?? 'ORTHANC';
  const dir = options.dir ?? tempDir('orthanc');
  const dicomPort = options.dicomPort ?? (await freePort());
  const httpPort = options.httpPort ?? (await freePort());
  const config = {
    Name: 'dicom-edge-test',
    StorageDirectory: path.join(dir, 'storage'),
    IndexDirectory: path.join(dir, 'index'),
    DicomAet: ae,
    DicomPort: dicomPort,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: options.users !== undefined,
    HttpServerEnabled: true,
    DicomServerEnabled: true,
    Plugins: options.dicomweb ? ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so'] : [],
    ...(options.dicomweb
      ? { DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false } }
      : {}),
    ...(options.users ? { RegisteredUsers: options.users } : {}),
    StorageCompression: false,
    OverwriteInstances: true,
    DicomCheckCalledAet: false,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowFind: true,
    DicomAlwaysAllowMove: true,
    DicomAlwaysAllowGet: true,
    DicomModalities: Object.fromEntries(
      Object.entries(options.modalities ?? {}).map(([name, m]) => [
        name,
        m.tls
          ? { AET: m.ae, Host: m.host, Port: m.port, UseDicomTls: true }
          : [m.ae, m.host, m.port],
      ]),
    ),
    ...(options.tls
      ? {
          DicomTlsEnabled: true,
          DicomTlsCertificate: options.tls.certificate,
          DicomTlsPrivateKey: options.tls.privateKey,
          DicomTlsTrustedCertificates: options.tls.trustedCertificates,
          DicomTlsRemoteCertificateRequired: true,
        }
      : {}),
    StableAge: 1,
    HttpTimeout: 60,
    DicomScuTimeout: 30,
    LogExportedResources: false,
    KeepAlive: true,
  };
  await fs.writeFile(path.join(dir, 'orthanc.json'), JSON.stringify(config, null, 2));
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn(ORTHANC, [path.join(dir, 'orthanc.json')], {
      env: { ...PEER_ENV, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    logOutput(child, 'Orthanc');
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    try {
      await waitForPort(httpPort, 30_000);
      await waitForPort(dicomPort, 30_000);
    } catch (err) {
      throw new Error(`Orthanc did not start: ${(err as Error).message}\n${stderr}`);
    }
  };
  await launch();

  const rest = (
    method: 'GET' | 'POST' | 'DELETE',
    urlPath: string,
    body?: string | Buffer,
  ): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const [user, password] = Object.entries(options.users ?? {})[0] ?? [];
      const req = http.request(
        {
          host: '127.0.0.1',
          port: httpPort,
          path: urlPath,
          method,
          ...(user ? { auth: `${user}:${password}` } : {}),
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => {
            const out = Buffer.concat(parts);
            if ((res.statusCode ?? 500) >= 400)
              reject(
                new Error(`Orthanc ${method} ${urlPath}: ${res.statusCode} ${out.toString()}`),
              );
            else resolve(out);
          });
        },
      );
      req.on('error', reject);
      req.setTimeout(60_000, () => req.destroy(new Error(`Orthanc ${method} ${urlPath}: timeout`)));
      if (body !== undefined) req.write(body);
      req.end();
    });

  const peer: OrthancPeer = {
    ae,
    dicomPort,
    httpPort,
    dir,
    get pid() {
      return child.pid!;
    },
    rest,
    async fileOf(sopInstanceUid) {
      const found = JSON.parse(
        (await rest('POST', '/tools/lookup', sopInstanceUid)).toString(),
      ) as Array<{ ID: string; Type: string }>;
      const instance = found.find((f) => f.Type === 'Instance');
      return instance ? rest('GET', `/instances/${instance.ID}/file`) : undefined;
    },
    async instanceCount() {
      return (JSON.parse((await rest('GET', '/instances')).toString()) as string[]).length;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
    kill() {
      child.kill('SIGKILL');
    },
    async restart() {
      await peer.stop();
      await launch();
    },
  };
  return peer;
}
