// DCMTK's dcmqrscp as a storage destination that takes only so many associations at once:
// beyond its MaxAssociations it answers A-ASSOCIATE-RJ (transient, service provider
// presentation related, local limit exceeded), as a PACS licensed for fewer does.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { logOutput } from './peer-logs';
import { freePort, PEER_ENV, tempDir, waitForPort } from './peers';

export interface Dcmqrscp {
  readonly port: number;
  readonly ae: string;
  /** Where it keeps what it received (and its index.dat). */
  readonly dir: string;
  /** The files it received. */
  received(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startDcmqrscp(maxAssociations: number): Promise<Dcmqrscp> {
  const port = await freePort();
  const work = tempDir('dcmqrscp');
  const dir = path.join(work, 'db');
  await fs.mkdir(dir);
  const config = path.join(work, 'dcmqrscp.cfg');
  await fs.writeFile(
    config,
    [
      `NetworkTCPPort  = ${port}`,
      'MaxPDUSize      = 16384',
      `MaxAssociations = ${maxAssociations}`,
      'HostTable BEGIN',
      'HostTable END',
      'VendorTable BEGIN',
      'VendorTable END',
      'AETable BEGIN',
      `QRSCP   ${dir}   RW  (1000, 1024mb)   ANY`,
      'AETable END',
      '',
    ].join('\n'),
  );
  const child = spawn('dcmqrscp', ['-c', config, '-v'], {
    env: PEER_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  logOutput(child, 'dcmqrscp');
  await waitForPort(port);
  return {
    port,
    ae: 'QRSCP',
    dir,
    async received() {
      const names = (await fs.readdir(dir)).filter((f) => f !== 'index.dat');
      return names.map((f) => path.join(dir, f));
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}
