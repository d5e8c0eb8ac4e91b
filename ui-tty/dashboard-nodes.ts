// The dashboard's nodes table: one row a node, its columns fitted to the terminal's width.
// The address column is as wide as the nodes' addresses need, up to what the other columns
// leave; what does not fit is taken from the AE title (or a URL's path), never from the
// host:port, the one value an installer must check. A host:port wider than the room left
// widens the column all the same: the row's end is cut instead (the description first).
import { isDimse, nodeAddress, nodeUsesTls, type NodeConfig } from '../firmware/config/config';
import type { DestinationReport } from '../firmware/forward/forwarder';
import { age } from './format';

interface Column {
  readonly heading: string;
  /** Its width; null for the address (sized to the nodes) and the description (what is left). */
  readonly width: number | null;
  readonly right?: true;
}

const COLUMNS: readonly Column[] = [
  { heading: 'NODE', width: 8 },
  { heading: 'AE@HOST:PORT', width: null },
  { heading: 'TLS', width: 3 },
  { heading: 'FWD', width: 3 },
  // "unreachable", "certificate": why a destination fails, where that is known.
  { heading: 'STATE', width: 11 },
  { heading: 'WAIT', width: 5, right: true },
  { heading: 'FLT', width: 3, right: true },
  { heading: 'FAIL', width: 5, right: true },
  { heading: 'OLDEST', width: 6, right: true },
  { heading: 'LAST ERROR / LAST FAILURE', width: null },
];
const ADDRESS = 1;

/** "http(s)://host:port" of a URL: what of a DICOMweb node's address is kept whole. */
function origin(url: string): string {
  return /^[a-z]+:\/\/[^/]*/i.exec(url)?.[0] ?? url;
}

/**
 * The least width that shows the node's host:port whole: "A~@host:port" (a letter of its
 * AE title), "https://host:port/~" (a "~" right after the port would read as a cut port).
 */
function addressNeed(n: NodeConfig): number {
  const whole = nodeAddress(n).length;
  return Math.min(whole, isDimse(n) ? `A~@${n.host}:${n.port}`.length : origin(n.url).length + 2);
}

/** The node's address in `width` (at least its need): the AE title or the path shortened. */
function addressCell(n: NodeConfig, width: number): string {
  const whole = nodeAddress(n);
  if (whole.length <= width) return whole;
  if (!isDimse(n)) return `${whole.slice(0, Math.max(origin(n.url).length + 1, width - 1))}~`;
  const where = `@${n.host}:${n.port}`;
  return `${n.ae.slice(0, Math.max(1, width - where.length - 1))}~${where}`;
}

/** Each column's width for these nodes on a terminal `width` wide. */
export function columnWidths(nodes: readonly NodeConfig[], width: number): number[] {
  // The selection marker, then each fixed column with the space after it.
  const fixed = COLUMNS.reduce((sum, c) => sum + (c.width === null ? 0 : c.width + 1), 1);
  const room = width - fixed - 1;
  const wanted = Math.max(
    COLUMNS[ADDRESS]!.heading.length,
    ...nodes.map((n) => nodeAddress(n).length),
  );
  const needed = Math.max(0, ...nodes.map(addressNeed));
  const address = Math.max(needed, Math.min(wanted, room));
  return COLUMNS.map((c, i) => (i === ADDRESS ? address : (c.width ?? 0)));
}

/** The cells as one line, each cut (with "~") or padded to its column. */
function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => {
      const width = widths[i]!;
      if (i === COLUMNS.length - 1) return cell; // the description: cut with the line
      const clipped = cell.length > width ? `${cell.slice(0, width - 1)}~` : cell;
      return COLUMNS[i]!.right ? clipped.padStart(width) : clipped.padEnd(width);
    })
    .join(' ');
}

export function headingRow(widths: readonly number[]): string {
  return row(
    COLUMNS.map((c) => c.heading),
    widths,
  );
}

/** "05:04:58" of an ISO time (UTC, as the dashboard's clock). */
function clock(iso: string | null | undefined): string {
  return iso ? iso.slice(11, 19) : '?';
}

/**
 * What is wrong with a destination now, each with its time so that it is never taken for
 * news: the destination failing (since when), else an instance's last error (cleared once
 * a later one is delivered), else its most recent job failed for good (a standing fact
 * until retried: the FAIL column counts them).
 */
export function problem(d: DestinationReport): string | undefined {
  if (d.lastError) return `failing since ${clock(d.failingSince)}: ${d.lastError}`;
  if (d.lastJobError) return `${clock(d.lastErrorAt)} ${d.lastJobError}`;
  if (d.lastFailedSop)
    return `failed ${clock(d.lastFailedAt)} SOP ${d.lastFailedSop}: ${d.lastFailedError ?? ''}`;
  return undefined;
}

/** A destination's STATE: its runner's, or, failing, why (failure-kind.ts) where known. */
function stateWord(d: DestinationReport): string {
  if (d.state !== 'backing-off') return d.state;
  return d.failureKind && d.failureKind !== 'other' ? d.failureKind : 'retrying';
}

/** A node's row (without the selection marker). */
export function nodeRow(
  n: NodeConfig,
  d: DestinationReport | undefined,
  widths: readonly number[],
): string {
  const where = addressCell(n, widths[ADDRESS]!);
  const tls = nodeUsesTls(n) ? 'yes' : '';
  if (!d) return row([n.name, where, tls, 'no', '', '', '', '', '', ''], widths);
  return row(
    [
      n.name,
      where,
      tls,
      'yes',
      stateWord(d),
      String(d.queued),
      String(d.inFlightCount),
      String(d.failed),
      age(d.oldestWaitingSeconds),
      problem(d) ?? '',
    ],
    widths,
  );
}
