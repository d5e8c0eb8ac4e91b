// `dicom-edge status [--config F]`: the running box at a glance, over its control socket.
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import type { BoxStatus } from '../control/status';
import { one, parseArgs } from './args';
import { formatQueue } from './queue';

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${seconds % 60}s`;
}

export function formatStatus(s: BoxStatus): string {
  const used = s.cache.diskTotalBytes - s.cache.diskFreeBytes;
  return (
    [
      `${s.ae} on port ${s.port}  (dicom-edge ${s.version}, up ${duration(s.uptimeSeconds)})`,
      `addresses:     ${s.addresses.join(', ') || '(none)'}`,
      `associations:  ${s.associations} open`,
      `received today: ${s.today.instances} instances, ${bytes(s.today.bytes)}`,
      `cache:         ${s.cache.instances} instances in ${s.cache.studies} studies; disk ${bytes(used)} used, ${bytes(s.cache.diskFreeBytes)} free`,
      '',
      formatQueue(s.destinations).trimEnd(),
      '',
      'recent events:',
      ...s.recentEvents.slice(-10).map((l) => `  ${l}`),
    ].join('\n') + '\n'
  );
}

export async function statusCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config']);
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  const status = (await controlRequest(config.storageDir, { command: 'status' })) as BoxStatus;
  process.stdout.write(formatStatus(status));
  return 0;
}
