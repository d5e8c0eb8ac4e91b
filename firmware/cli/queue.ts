// `dicom-edge queue [--config F]`: per-destination forward state of the running box.
// `dicom-edge queue retry [--dest NAME] [--config F]`: requeue failed jobs.
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import type { DestinationReport } from '../forward/forwarder';
import { one, parseArgs, UsageError } from './args';

function age(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

export function formatQueue(reports: readonly DestinationReport[]): string {
  if (reports.length === 0)
    return 'no forward destinations configured (nodes with "forward": true)\n';
  const header = [
    'DEST',
    'AE@ADDRESS',
    'STATE',
    'QUEUED',
    'IN FLIGHT',
    'SENT',
    'FAILED',
    'OLDEST',
    'LAST SUCCESS',
  ];
  const rows = reports.map((r) => [
    r.name,
    `${r.ae}@${r.address}`,
    r.state === 'backing-off' && r.retryAt ? `retry ${r.retryAt.slice(11, 19)}` : r.state,
    String(r.queued),
    r.inFlight ? '1' : '0',
    String(r.done),
    String(r.failed),
    age(r.oldestWaitingSeconds),
    r.lastDoneAt ?? r.lastSuccessAt ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const errors = reports
    .filter((r) => r.lastError ?? r.lastJobError)
    .map((r) => `  ${r.name}: last error: ${r.lastError ?? r.lastJobError}`);
  return [line(header), ...rows.map(line), ...errors].join('\n') + '\n';
}

export async function queueCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config', '--dest']);
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  const [sub] = args.positionals;
  if (sub === undefined) {
    const reports = (await controlRequest(config.storageDir, {
      command: 'queue',
    })) as DestinationReport[];
    process.stdout.write(formatQueue(reports));
    return 0;
  }
  if (sub === 'retry') {
    const destination = args.options.has('--dest') ? one(args, '--dest', '') : undefined;
    const count = (await controlRequest(config.storageDir, {
      command: 'retry',
      ...(destination ? { destination } : {}),
    })) as number;
    process.stdout.write(
      `${count} failed job(s) requeued${destination ? ` for ${destination}` : ''}\n`,
    );
    return 0;
  }
  throw new UsageError('usage: dicom-edge queue [retry [--dest NAME]] [--config F]');
}
