// Plain-text views of the control API's answers, shared by the CLI (`status`, `queue`) and
// the consoles, so a field engineer sees the same table wherever they ask.
import { listeningOn } from '../firmware/config/config';
import type { BoxStatus } from '../firmware/control/status';
import type { CacheReport } from '../storage/archive';
import type { EchoResult, RetryResult } from '../firmware/control/commands';
import { formatStatus as formatDimseStatus } from '../firmware/dicom/dimse/status';
import type { EvictionReport } from '../storage/evictor';
import type { DestinationReport } from '../firmware/forward/forwarder';
import type { FailedJob } from '../storage/index';
import type { WorklistStatus } from '../firmware/worklist/worklist';

/** 1234567 -> "1.2 MB" (decimal units, as disks are sold). */
export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${seconds % 60}s`;
}

export function age(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

/**
 * Why a failing destination fails, where that is known: "certificate (expired)",
 * "unreachable", "rejected"; undefined when it is not failing, or for another reason.
 */
function failureLabel(r: DestinationReport): string | undefined {
  if (r.state !== 'backing-off' || !r.failureKind || r.failureKind === 'other') return undefined;
  return r.failureKind === 'certificate' && r.certificateProblem
    ? `certificate (${r.certificateProblem})`
    : r.failureKind;
}

/** "unreachable, retry 05:04:58" of a destination that backs off; else its state. */
function queueState(r: DestinationReport): string {
  if (r.state !== 'backing-off' || !r.retryAt) return r.state;
  const why = failureLabel(r);
  return `${why ? `${why}, ` : ''}retry ${r.retryAt.slice(11, 19)}`;
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
    r.peer,
    queueState(r),
    String(r.queued),
    String(r.inFlightCount),
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
  const notes = reports.flatMap((r) => [
    ...((r.lastError ?? r.lastJobError)
      ? [`  ${r.name}: last error: ${r.lastError ?? r.lastJobError}`]
      : []),
    ...(r.setAside > 0 ? [`  ${r.name}: ${r.setAside} set aside (their own transfer failed)`] : []),
    ...(r.lastFailedSop
      ? [
          `  ${r.name}: last failure ${r.lastFailedAt ?? '?'} SOP ${r.lastFailedSop}: ${r.lastFailedError ?? ''}`,
        ]
      : []),
  ]);
  return [line(header), ...rows.map(line), ...notes].join('\n') + '\n';
}

/** `queue failed`: one line a job, most recent first. */
export function formatFailedJobs(jobs: readonly FailedJob[]): string {
  if (jobs.length === 0) return 'no failed jobs\n';
  return (
    jobs
      .map(
        (j) =>
          `${j.failedAt ?? '?'}  ${j.destination}  SOP ${j.sopInstanceUid}  study ${j.studyInstanceUid}  ` +
          `attempts ${j.attempts}${j.lastStatus !== null ? `  status 0x${j.lastStatus.toString(16).padStart(4, '0')}` : ''}` +
          `  ${j.lastError ?? ''}`,
      )
      .join('\n') + '\n'
  );
}

/** What a retry requeued, and the backoffs it ended, in words. */
export function formatRetry(result: RetryResult): string {
  const backoffs = formatBackoffs(result);
  if (result.count === 0)
    return ['no failed jobs matched: nothing requeued', ...backoffs].join('\n');
  const named = result.jobs.map((j) => `  ${j.destination}: ${j.sopInstanceUid}`);
  const more =
    result.count > result.jobs.length
      ? [`  ... and ${result.count - result.jobs.length} more`]
      : [];
  return [`${result.count} failed job(s) requeued:`, ...named, ...more, ...backoffs].join('\n');
}

/** "pacs: backoff ended, retrying now", one line per destination a retry names. */
export function formatBackoffs(result: RetryResult): string[] {
  return result.backoffs.map(
    (b) => `${b.destination}: ${b.ended ? 'backoff ended, retrying now' : 'was not backing off'}`,
  );
}

/** "echo pacs: 0x0000 (success)", and whether that ended a backoff towards it. */
export function formatEcho(node: string, result: EchoResult): string {
  const ended = result.backoffEnded ? '; backoff ended, retrying now' : '';
  return `echo ${node}: ${formatDimseStatus(result.status)}${ended}`;
}

/** "HH:MM:SS" of an ISO time (UTC, as the dashboard's clock). */
function clockOf(iso: string | null): string {
  return iso ? iso.slice(11, 19) : '?';
}

/** The copy in one line, most important first: a dashboard cuts the end. */
export function worklistSummary(w: WorklistStatus): string {
  const items = `${w.items} item${w.items === 1 ? '' : 's'}`;
  const why = w.lastError ? ` (${w.lastError})` : '';
  switch (w.state) {
    case 'fresh':
      return `${w.source}: ${items}, fresh, taken ${age(w.ageSeconds)} ago${w.truncated ? ', CUT at worklist.maxItems' : ''}`;
    case 'stale':
      return `${w.source}: ${items}, STALE since ${clockOf(w.failingSince)} (${age(w.ageSeconds)} old), served until ${clockOf(w.servedUntil)}${why}`;
    case 'expired':
      return `${w.source}: EXPIRED, copy ${age(w.ageSeconds)} old: modalities get C001; failing since ${clockOf(w.failingSince)}${why}`;
    case 'none':
      return `${w.source}: no copy yet: modalities get C001${why}`;
  }
}

export function formatBoxStatus(s: BoxStatus): string {
  const used = s.cache.diskTotalBytes - s.cache.diskFreeBytes;
  const usedPercent = s.cache.diskTotalBytes
    ? Math.round((used / s.cache.diskTotalBytes) * 100)
    : 0;
  const h = s.health;
  const links = h.links
    .map((l) => `${l.name} ${l.up ? 'up' : 'DOWN'}${l.address ? ` ${l.address}` : ''}`)
    .join(', ');
  return (
    [
      `${s.ae} ${listeningOn(s.port, s.tlsPort)}  (dicom-edge ${s.version}, up ${duration(s.uptimeSeconds)})`,
      `addresses:     ${s.addresses.join(', ') || '(none)'} (listening on ${s.host})`,
      `associations:  ${s.associations} open`,
      ...s.activeAssociations.map(
        (a) =>
          `  ${a.callingAe ?? '(negotiating)'} from ${a.address}: ${a.service ?? '-'}, ${a.requests} requests, ${bytes(a.bytesReceived)}`,
      ),
      `received today: ${s.today.instances} instances, ${bytes(s.today.bytes)}`,
      `cache:         ${s.cache.instances} instances in ${s.cache.studies} studies; disk ${usedPercent}% used${usedPercent >= s.cache.warnPercent ? ' (NEARLY FULL)' : ''}, ${bytes(s.cache.diskFreeBytes)} free; evicts above ${s.cache.evictAbovePercent}% to ${s.cache.evictToPercent}%, ${bytes(s.cache.pinnedBytes)} pinned, ${s.cache.evictedStudies} studies evicted since start`,
      ...(s.cache.refusing ? [`REFUSING C-STORE: ${s.cache.refusing}`] : []),
      ...(s.worklist ? [`worklist:      ${worklistSummary(s.worklist)}`] : []),
      ...s.certificates.map(
        (c) =>
          `certificate:   ${c.use}: ${c.subject ?? c.file}${c.expires ? `, valid until ${c.expires.slice(0, 10)}` : ''}${c.warning ? ` (${c.warning.startsWith('expires') || c.warning === 'EXPIRED' ? 'WARNING: ' : ''}${c.warning})` : ''}`,
      ),
      `health:        load ${h.load[0].toFixed(2)} on ${h.cpus} CPUs; CPU ${h.cpuTemperatureC === null ? 'temperature n/a' : `${Math.round(h.cpuTemperatureC)} C`}; memory ${bytes(h.memory.availableBytes)} free of ${bytes(h.memory.totalBytes)} (box ${bytes(h.processRssBytes)}); links ${links || '(none)'}`,
      '',
      formatQueue(s.destinations).trimEnd(),
      '',
      'recent events:',
      ...s.recentEvents.slice(-10).map((l) => `  ${l}`),
    ].join('\n') + '\n'
  );
}

/** Why a pinned study may not be evicted, in words. */
function pinReasons(p: CacheReport['pinned'][number]): string {
  return [
    p.protected ? 'protected' : '',
    p.undelivered ? `${p.undelivered} undelivered` : '',
    p.failed ? `${p.failed} failed` : '',
    p.uncommitted ? `${p.uncommitted} not yet committed` : '',
    p.inCommitment ? `${p.inCommitment} in a pending commitment` : '',
    p.onlyCopy ? `${p.onlyCopy} with no copy elsewhere` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** `dicom-edge cache`: use, watermarks, what may go now and what is pinned, and why. */
export function formatCacheReport(r: CacheReport): string {
  const u = r.usage;
  return (
    [
      `cache:     ${u.instances} instances in ${u.studies} studies, ${bytes(u.bytes)}; least recently used ${u.oldestUsedAt ?? '-'}`,
      `disk:      ${r.disk.usedPercent.toFixed(1)}% used, ${bytes(r.disk.freeBytes)} free of ${bytes(r.disk.totalBytes)}; evicts above ${r.evictAbovePercent}% down to ${r.evictToPercent}%, keeps ${bytes(r.minFreeBytes)} free`,
      `pinned:    ${u.pinnedStudies} studies, ${bytes(u.pinnedBytes)} (may not be evicted yet)`,
      ...(r.refusing ? [`REFUSING C-STORE: ${r.refusing}`] : []),
      '',
      `evictable now (least recently used first): ${r.evictable.length === 0 ? 'none' : ''}`,
      ...r.evictable.map((e) => `  ${e.lastUsedAt}  ${e.studyInstanceUid}  ${bytes(e.bytes)}`),
      `pinned: ${r.pinned.length === 0 ? 'none' : ''}`,
      ...r.pinned.map(
        (p) => `  ${p.lastUsedAt}  ${p.studyInstanceUid}  ${bytes(p.bytes)}  ${pinReasons(p)}`,
      ),
    ].join('\n') + '\n'
  );
}

/** What an eviction pass did (or, dry, would do). */
export function formatEviction(r: EvictionReport): string {
  const verb = r.dryRun ? 'would evict' : 'evicted';
  return (
    [
      `${verb} ${r.studies.length} studies, ${bytes(r.bytes)}; disk ${r.before.usedPercent.toFixed(1)}% -> ${r.after.usedPercent.toFixed(1)}% used`,
      ...r.studies.map((st) => `  ${st.lastUsedAt}  ${st.studyInstanceUid}  ${bytes(st.bytes)}`),
    ].join('\n') + '\n'
  );
}
