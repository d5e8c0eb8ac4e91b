// What the dashboard shows, as a pure function of the box's status and configuration and
// the terminal's size: a list of lines, each already fitted to the width. The screen code
// (dashboard.ts) only puts these lines on the terminal, so the layout is tested without one.
// At 80x24 every panel fits; a taller terminal gives the extra rows to associations, nodes
// and events, a wider one to the sparkline and the error column.
import { listeningOn, type NodeConfig } from '../firmware/config/config';
import type { BoxStatus } from '../firmware/control/status';
import type { DestinationReport } from '../firmware/forward/forwarder';
import { messageNow, type DashboardMessage } from './dashboard-message';
import { columnWidths, headingRow, nodeRow, problem } from './dashboard-nodes';
import { bytes, duration, worklistSummary } from './format';

export interface DashboardLine {
  readonly text: string;
  readonly style?: 'title' | 'heading' | 'selected' | 'warn' | 'error' | 'help';
}

export interface DashboardState {
  readonly status: BoxStatus;
  readonly nodes: readonly NodeConfig[];
  /** Index into nodes of the row the keys act on. */
  readonly selected: number;
  /** The result of the last action (echo, save, validation error), shown above the help. */
  readonly message?: DashboardMessage;
  readonly now: Date;
  /** Unicode block characters for the sparkline; ASCII on the Linux console. */
  readonly unicode: boolean;
  /** The keys line; HELP_LINE unless something is being typed (then its keys, or its error). */
  readonly help?: { text: string; error: boolean };
}

export const HELP_LINE =
  'a:AE p:port n:add e:edit d:del f:fwd c:echo r:retry s:setup up/down:node q:quit';

export function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}~` : text.padEnd(width);
}

const BLOCKS = ' ▁▂▃▄▅▆▇█';
const ASCII = ' .:-=+*#%@';

/** One character per value, scaled to the largest; the newest value on the right. */
export function sparkline(values: readonly number[], width: number, unicode: boolean): string {
  const levels = unicode ? BLOCKS : ASCII;
  const shown = values.slice(-width);
  const max = Math.max(1, ...shown);
  const line = shown
    .map((v) => levels[v === 0 ? 0 : Math.max(1, Math.round((v / max) * (levels.length - 1)))])
    .join('');
  return line.padStart(width, levels[0]);
}

function rate(bytesPerInterval: number, intervalSeconds: number): string {
  return `${bytes(bytesPerInterval / intervalSeconds)}/s`;
}

function percent(used: number, total: number): number {
  return total > 0 ? Math.round((used / total) * 100) : 0;
}

function bar(p: number, width: number): string {
  const filled = Math.round((Math.min(100, p) / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Text broken into lines of `width` at spaces where it can, at `width` where it cannot. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const cut = space > 0 ? space : width;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
  }
  return [...lines, rest];
}

/**
 * An event line made to fit by eliding the middle of its longest UIDs, which share their
 * root: "sop=2.25.31415~3.1.2" keeps the end that tells instances apart. What still does
 * not fit is cut by fit().
 */
export function compactUids(text: string, width: number, ellipsis: string): string {
  let out = text;
  for (let i = 0; i < 4 && out.length > width; i++) {
    const uids = out.match(/\d+(?:\.\d+){3,}/g)?.filter((u) => u.length > 20) ?? [];
    const longest = uids.sort((a, b) => b.length - a.length)[0];
    if (!longest) break;
    const keep = Math.max(16, longest.length - (out.length - width));
    const head = Math.ceil((keep - ellipsis.length) / 3);
    const tail = keep - ellipsis.length - head;
    if (keep >= longest.length) break;
    out = out.replace(longest, `${longest.slice(0, head)}${ellipsis}${longest.slice(-tail)}`);
  }
  return out;
}

/** The identity line's parts, most important first: the least are left out to fit. */
function identity(s: BoxStatus, width: number): string {
  // IPv4 first: that is what an installer types into a modality.
  const ips = [...s.addresses].sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
  const head = `${s.ae} ${listeningOn(s.port, s.tlsPort)}`;
  const version = `dicom-edge ${s.version}`;
  const up = `up ${duration(s.uptimeSeconds)}`;
  const addresses = (shown: number): string =>
    ips.length === 0
      ? 'no network'
      : `${ips.slice(0, shown).join(' ')}${shown < ips.length ? ` +${ips.length - shown}` : ''}`;
  // Every address with the uptime; fewer addresses; the first alone without the uptime.
  // The version stays: it is what support asks first.
  const candidates = [
    ...Array.from({ length: Math.max(1, ips.length) }, (_, i) => [
      head,
      up,
      addresses(ips.length - i),
      version,
    ]),
    [head, addresses(1), version],
    [head, ips[0] ?? 'no network', version],
  ];
  for (const parts of candidates) {
    const text = parts.join(' | ');
    if (text.length <= width) return text;
  }
  return `${head} | ${version}`;
}

/** Makes a line fitted to the dashboard's width, with its style when it has one. */
type LineMaker = (text: string, style?: DashboardLine['style']) => DashboardLine;

/** How many rows the panels that grow with the terminal get. */
interface PanelRows {
  readonly associations: number;
  readonly nodes: number;
  readonly events: number;
}

function panelRows(state: DashboardState, height: number): PanelRows {
  // Fixed parts: title, receive, associations heading, nodes heading, cache, health,
  // events heading, message, help = 9 lines, and the worklist's when there is one. The
  // rest is shared out.
  const spare = Math.max(3, height - 9 - (state.status.worklist ? 1 : 0));
  const associations = Math.max(
    1,
    Math.min(state.status.activeAssociations.length || 1, Math.floor(spare / 4)),
  );
  const nodes = Math.max(1, Math.min(state.nodes.length || 1, Math.floor(spare / 3)));
  return { associations, nodes, events: Math.max(1, spare - associations - nodes) };
}

function titleLine(state: DashboardState, w: number, line: LineMaker): DashboardLine {
  const now = state.now.toISOString().slice(11, 19);
  return line(`${fit(identity(state.status, w - 9), w - 9)} ${now}`, 'title');
}

function receiveLine(state: DashboardState, w: number, line: LineMaker): DashboardLine {
  const s = state.status;
  const history = s.throughput.bytes;
  const interval = s.throughput.intervalSeconds;
  const current = history.length ? rate(history[history.length - 1]!, interval) : '-';
  const tail = ` ${current.padStart(10)}  today ${s.today.instances} inst ${bytes(s.today.bytes)}`;
  const graphWidth = Math.max(10, w - 9 - tail.length);
  return line(`Receive ${sparkline(history, graphWidth, state.unicode)}${tail}`);
}

function associationsPanel(state: DashboardState, rows: number, line: LineMaker): DashboardLine[] {
  const s = state.status;
  const out = [line(`Associations ${s.associations} open`, 'heading')];
  const assocs = s.activeAssociations.slice(0, rows);
  for (const a of assocs) {
    const since = Math.round((state.now.getTime() - Date.parse(a.since)) / 1000);
    out.push(
      line(
        `  ${(a.callingAe ?? '(negotiating)').padEnd(16)} ${a.address.padEnd(21)} ${(a.service ?? '-').padEnd(11)} ${String(a.requests).padStart(5)} req ${bytes(a.bytesReceived).padStart(9)} ${duration(since)}`,
      ),
    );
  }
  for (let i = assocs.length; i < rows; i++) out.push(line(i === 0 ? '  (none)' : ''));
  return out;
}

function nodesPanel(
  state: DashboardState,
  reports: ReadonlyMap<string, DestinationReport>,
  w: number,
  rows: number,
  line: LineMaker,
): DashboardLine[] {
  const widths = columnWidths(state.nodes, w);
  const out = [line(` ${headingRow(widths)}`, 'heading')];
  // Keep the selected node in view when there are more nodes than rows.
  const first = Math.min(
    Math.max(0, state.selected - rows + 1),
    Math.max(0, state.nodes.length - rows),
  );
  const visible = state.nodes.slice(first, first + rows);
  visible.forEach((n, i) => {
    const d = reports.get(n.name);
    const failing = d && (d.failed > 0 || d.state === 'backing-off');
    const style = first + i === state.selected ? 'selected' : failing ? 'warn' : undefined;
    out.push(line(`${first + i === state.selected ? '>' : ' '}${nodeRow(n, d, widths)}`, style));
  });
  for (let i = visible.length; i < rows; i++)
    out.push(line(i === 0 ? '  (no nodes: press n to add one)' : ''));
  return out;
}

function cacheLine(s: BoxStatus, line: LineMaker): DashboardLine {
  const c = s.cache;
  const used = percent(c.diskTotalBytes - c.diskFreeBytes, c.diskTotalBytes);
  return line(
    c.refusing
      ? `Cache  REFUSING C-STORE: ${c.refusing}`
      : `Cache ${c.instances} inst/${c.studies} studies ${bar(used, 10)} ${used}% evict>${c.evictAbovePercent}% ${bytes(c.diskFreeBytes)} free, ${bytes(c.pinnedBytes)} pinned`,
    c.refusing ? 'error' : used >= c.warnPercent ? 'warn' : undefined,
  );
}

/** The worklist copy: fresh, stale (warn) or not served (error); no line without a source. */
function worklistLines(s: BoxStatus, line: LineMaker): DashboardLine[] {
  const w = s.worklist;
  if (!w) return [];
  const style = w.state === 'fresh' ? undefined : w.state === 'stale' ? 'warn' : 'error';
  return [line(`Worklist ${worklistSummary(w)}`, style)];
}

function healthLine(s: BoxStatus, line: LineMaker): DashboardLine {
  const h = s.health;
  const temp = h.cpuTemperatureC === null ? 'n/a' : `${Math.round(h.cpuTemperatureC)}C`;
  const memUsed = h.memory.totalBytes - h.memory.availableBytes;
  const links = h.links.map(
    (l) => `${l.name} ${l.up ? 'up' : 'DOWN'}${l.speedMbps ? ` ${l.speedMbps}M` : ''}`,
  );
  const hot = h.cpuTemperatureC !== null && h.cpuTemperatureC >= 80;
  return line(
    `Health temp ${temp}  load ${h.load[0].toFixed(2)}/${h.cpus} cpu  mem ${bytes(memUsed)}/${bytes(h.memory.totalBytes)}  ${links.join(' ') || 'no links'}`,
    hot || h.links.some((l) => !l.up) ? 'warn' : undefined,
  );
}

/**
 * The message: the last action's result while it still holds (dashboard-message.ts), else
 * the selected node's problem.
 */
function message(
  state: DashboardState,
  reports: ReadonlyMap<string, DestinationReport>,
): { text: string; style?: DashboardLine['style'] } {
  const said = state.message && messageNow(state.message, reports, state.now);
  if (said !== undefined)
    return state.message?.error ? { text: said, style: 'error' } : { text: said };
  const selectedNode = state.nodes[state.selected];
  const selectedReport = selectedNode ? reports.get(selectedNode.name) : undefined;
  const selectedProblem = selectedReport && problem(selectedReport);
  return selectedNode && selectedProblem
    ? { text: `${selectedNode.name}: ${selectedProblem}`, style: 'warn' }
    : { text: '' };
}

function eventsPanel(
  state: DashboardState,
  w: number,
  rows: number,
  line: LineMaker,
): DashboardLine[] {
  const out = [line('Events', 'heading')];
  const events = state.status.recentEvents
    .slice(-rows)
    .map((e) => e.replace(/^\S+T(\d\d:\d\d:\d\d)\.\d+Z /, '$1 '))
    .map((e) => compactUids(e, w, state.unicode ? '…' : '~'));
  for (const e of events) out.push(line(e, /^\S+ (WARN|ERROR)/.test(e) ? 'warn' : undefined));
  for (let i = events.length; i < rows; i++) out.push(line(''));
  return out;
}

/**
 * The keys line; while something is typed, the prompt's keys, or why the last answer was
 * refused: whole, over up to three lines as a message is (a refusal names the setting,
 * the value and the system's reason, "listen EADDRINUSE: address already in use ...").
 * The prompt goes on the row above these (dashboard.ts).
 */
export function keysLines(help: DashboardState['help'], width: number): string[] {
  if (!help) return [HELP_LINE];
  return help.error ? wrap(help.text, Math.max(40, width)).slice(0, 3) : [help.text];
}

export function renderDashboard(
  state: DashboardState,
  width: number,
  height: number,
): DashboardLine[] {
  const s = state.status;
  const w = Math.max(40, width);
  const line: LineMaker = (text, style) =>
    style ? { text: fit(text, w), style } : { text: fit(text, w) };
  const rows = panelRows(state, height);
  const reports = new Map(s.destinations.map((d) => [d.name, d]));
  // The message is shown whole: it takes up to three lines from the events (a SOP
  // Instance UID alone may be 64 characters). While something is typed, its row is the
  // prompt's (dashboard.ts puts it there) and a refusal is shown below it instead.
  const shown = message(state, reports);
  const messageLines = state.help ? [''] : wrap(shown.text, w).slice(0, Math.min(3, rows.events));
  const keys = keysLines(state.help, w);
  const shownEvents = Math.max(1, rows.events - (messageLines.length - 1) - (keys.length - 1));
  return [
    titleLine(state, w, line),
    receiveLine(state, w, line),
    ...associationsPanel(state, rows.associations, line),
    ...nodesPanel(state, reports, w, rows.nodes, line),
    cacheLine(s, line),
    ...worklistLines(s, line),
    healthLine(s, line),
    ...eventsPanel(state, w, shownEvents, line),
    ...messageLines.map((text) => line(text, shown.style)),
    ...keys.map((text) => line(text, state.help?.error ? 'error' : 'help')),
  ];
}
