// A far WAN in front of a DICOM peer on this machine, for trying the box against one by
// hand (the benchmarks and tests use test/support/wan-link.ts directly):
//   node dist/scripts/wan-model.js TARGET_PORT [--port P] [--rtt-ms 600] [--mbit 20]
// listens on 127.0.0.1 (P, or a free port it prints) and carries every connection to
// 127.0.0.1:TARGET_PORT, each direction delayed by half the round trip and limited to the
// rate, until interrupted.
import { startWanLink } from '../test/support/wan-link';

function option(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} needs a number`);
  return value;
}

async function main(): Promise<void> {
  const target = Number(process.argv[2]);
  if (!Number.isInteger(target) || target < 1 || target > 65535)
    throw new Error('usage: wan-model TARGET_PORT [--port P] [--rtt-ms MS] [--mbit MBIT]');
  const rttMs = option('--rtt-ms') ?? 50;
  const mbit = option('--mbit');
  const port = option('--port');
  const link = await startWanLink({
    targetPort: target,
    delayMs: rttMs / 2,
    ...(mbit ? { bytesPerSecond: (mbit * 1e6) / 8 } : {}),
    ...(port ? { port } : {}),
  });
  process.stdout.write(
    `127.0.0.1:${link.port} -> 127.0.0.1:${target}, round trip ${rttMs} ms, ${mbit ? `${mbit} Mbit/s each way` : 'no rate limit'}\n`,
  );
  process.once('SIGINT', () => {
    process.stdout.write(
      `\n${link.connections} connection(s), ${link.bytes.up} bytes up, ${link.bytes.down} down\n`,
    );
    void link.close().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`wan-model: ${(err as Error).message}\n`);
  process.exit(2);
});
