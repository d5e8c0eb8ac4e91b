// What the tests' peers say (the dcmjs-dimse library's log, storescp's and Orthanc's
// output), and the log of the boxes the tests run in this process, is kept out of mocha's
// report: it goes to one file per test under $TMPDIR/dicom-edge-peer-logs/, and is
// printed under a test only when that test fails.
// Loaded by mocha before the tests (.mocharc.json "require"), as root hooks.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type Mocha from 'mocha';
import { onLogLine, setStderrLogging } from '../../firmware/log';

export const PEER_LOG_DIR = path.join(os.tmpdir(), 'dicom-edge-peer-logs');

/** Lines since the last test ended (a `before` hook's go with the first test after it). */
let lines: string[] = [];

export function peerLog(peer: string, text: string): void {
  for (const line of text.replace(/\n$/, '').split('\n')) lines.push(`${peer}: ${line}`);
}

/** A peer process's stdout and stderr, into the peer log, line by line. */
export function logOutput(child: ChildProcess, peer: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const end = text.lastIndexOf('\n');
      partial = text.slice(end + 1);
      if (end >= 0) peerLog(peer, text.slice(0, end));
    });
    stream?.on('end', () => partial && peerLog(peer, partial));
  }
}

// dcmjs-dimse logs every PDU at its default level through loglevel: into the peer log.
interface Loglevel {
  methodFactory: (method: string) => (...args: unknown[]) => void;
  getLevel(): number;
  setLevel(level: number): void;
}
/* eslint-disable-next-line @typescript-eslint/no-require-imports */
const dcmjsLog = (require('dcmjs-dimse') as { log: Loglevel }).log;
dcmjsLog.methodFactory =
  (method) =>
  (...args) =>
    peerLog(`dcmjs-dimse ${method}`, args.map(String).join(' '));
dcmjsLog.setLevel(dcmjsLog.getLevel()); // loglevel applies a new factory at setLevel

// The boxes started in this process (test/support/peers.ts startBox): their log lines.
setStderrLogging(false);
onLogLine((line) => peerLog('box', line));

function fileName(title: string): string {
  return `${title.replace(/[^\w.-]+/g, '_').slice(0, 150)}.log`;
}

export const mochaHooks = {
  afterEach(this: Mocha.Context): void {
    const test = this.currentTest;
    if (!test || lines.length === 0) return;
    const said = lines;
    lines = [];
    mkdirSync(PEER_LOG_DIR, { recursive: true });
    const file = path.join(PEER_LOG_DIR, fileName(test.fullTitle()));
    writeFileSync(file, `${said.join('\n')}\n`);
    if (test.state === 'failed')
      process.stdout.write(
        `\n      what the peers and the box said (${file}):\n${said.map((l) => `        ${l}`).join('\n')}\n`,
      );
  },
};
