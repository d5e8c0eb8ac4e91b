// `make bench`, what TLS costs: 400 CT-like instances (0.5 MB) from one storescu, plain and
// with +tls, to DCMTK storescp (plain and +tls) and to the box (its plain port and its TLS
// listener), best of two each, in one run. Prints MB/s and each receiver's TLS/plain ratio.
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { listenerTls, makeCertificates } from '../test/support/certificates';
import { freePort, startStorescp, tempDir } from '../test/support/peers';
import { sendWithStorescu, startBoxProcess, writeCtSet } from './bench-support';

async function main(): Promise<void> {
  const work = tempDir('bench-tls');
  const certs = await makeCertificates(path.join(work, 'certs'));
  const files = await writeCtSet(work, 400, 980);
  const mb = files.reduce((n, f) => n + statSync(f).size, 0) / 1e6;
  const client = ['+tls', certs.client.key, certs.client.cert, '+cf', certs.ca];
  const best = { scpPlain: Infinity, scpTls: Infinity, boxPlain: Infinity, boxTls: Infinity };
  for (let round = 0; round < 2; round++) {
    for (const secure of [false, true]) {
      const scp = await startStorescp(
        secure ? ['+tls', certs.server.key, certs.server.cert, '+cf', certs.ca] : [],
      );
      const s = await sendWithStorescu(scp.port, 'STORESCP', files, 1, secure ? client : []);
      if (secure) best.scpTls = Math.min(best.scpTls, s);
      else best.scpPlain = Math.min(best.scpPlain, s);
      await scp.stop();
      await fs.rm(scp.dir, { recursive: true, force: true });
    }
    // A fresh box for each, as each storescp is fresh: plain to its plain port, TLS to its TLS one.
    for (const secure of [false, true]) {
      const tlsPort = await freePort();
      const box = await startBoxProcess({ tls: listenerTls(certs, tlsPort) });
      const s = secure
        ? await sendWithStorescu(tlsPort, 'DICOM_EDGE', files, 1, client)
        : await sendWithStorescu(box.port, 'DICOM_EDGE', files);
      if (secure) best.boxTls = Math.min(best.boxTls, s);
      else best.boxPlain = Math.min(best.boxPlain, s);
      await box.stop();
    }
  }
  await fs.rm(work, { recursive: true, force: true });
  const rate = (s: number): string => `${(mb / s).toFixed(0)} MB/s`;
  process.stdout.write(
    `\n400 instances, ${mb.toFixed(0)} MB, one storescu, best of 2:\n` +
      `storescp:   plain ${rate(best.scpPlain)}, TLS ${rate(best.scpTls)} (TLS/plain ${(best.scpPlain / best.scpTls).toFixed(2)})\n` +
      `dicom-edge: plain ${rate(best.boxPlain)}, TLS ${rate(best.boxTls)} (TLS/plain ${(best.boxPlain / best.boxTls).toFixed(2)})\n`,
  );
}

void main();
