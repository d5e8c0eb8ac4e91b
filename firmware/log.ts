// One line per event, to stderr (the journal on the appliance). As text, fields are
// key=value so a line can be grepped by peer, SOP instance or status; as JSON
// (DICOM_EDGE_LOG_FORMAT=json) one object per line for journald or Loki to parse.
// DICOM_EDGE_LOG sets the level: debug, info (the default), warn or error. A value that
// is not a level is said once and logging stays at info: a typo must not silence errors.
// Fields whose name says they hold a secret are never written.
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export const LEVELS = Object.keys(ORDER) as Level[];

/** Field names whose values are never logged (credentials of a node, a TLS key's passphrase). */
const SECRET_FIELD = /(password|passphrase|secret|token|authorization|credential|privatekey)/i;

/** The level a DICOM_EDGE_LOG value names (case-insensitive), or undefined. */
export function parseLevel(value: string | undefined): Level | undefined {
  const v = value?.trim().toLowerCase();
  return LEVELS.find((l) => l === v);
}

/** The format a DICOM_EDGE_LOG_FORMAT value names, or undefined. */
export function parseFormat(value: string | undefined): LogFormat | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'text' || v === 'json' ? v : undefined;
}

/** Problems with the logging environment, said once on the first line written. */
const startupWarnings: string[] = [];

function fromEnv<T>(
  name: string,
  value: string | undefined,
  parse: (v: string) => T | undefined,
  fallback: T,
  allowed: string,
): T {
  if (value === undefined || value === '') return fallback;
  const parsed = parse(value);
  if (parsed !== undefined) return parsed;
  startupWarnings.push(
    `${name}=${JSON.stringify(value)} is not one of ${allowed}; using ${String(fallback)}`,
  );
  return fallback;
}

let threshold: Level = fromEnv(
  'DICOM_EDGE_LOG',
  process.env.DICOM_EDGE_LOG,
  parseLevel,
  'info',
  LEVELS.join(', '),
);
let format: LogFormat = fromEnv(
  'DICOM_EDGE_LOG_FORMAT',
  process.env.DICOM_EDGE_LOG_FORMAT,
  parseFormat,
  'text',
  'text, json',
);
const listeners: Array<(line: string, level: Level) => void> = [];

export function setLogLevel(level: Level): void {
  threshold = level;
}

export function setLogFormat(f: LogFormat): void {
  format = f;
}

let toStderr = true;

/** Off while a dashboard owns this terminal (its events panel shows the lines instead). */
export function setStderrLogging(on: boolean): void {
  toStderr = on;
}

/** Lets the control API and tests observe log lines (recent events), always as text. */
export function onLogLine(listener: (line: string, level: Level) => void): () => void {
  listeners.push(listener);
  return () => listeners.splice(listeners.indexOf(listener), 1);
}

export interface LogRecord {
  readonly time: string;
  readonly level: Level;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The fields to write: undefined ones left out, secrets replaced. */
function fieldsOf(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = SECRET_FIELD.test(k) ? '[redacted]' : v;
  }
  return out;
}

function textValue(value: unknown): string {
  const s = typeof value === 'string' ? value : String(value);
  return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s;
}

/** One log line (without its newline), as text or JSON. */
export function formatRecord(r: LogRecord, as: LogFormat): string {
  if (as === 'json') {
    // The record's own keys first, so that a field cannot overwrite them.
    const reserved = new Set(['time', 'level', 'msg']);
    const extra = Object.entries(r.fields).filter(([k]) => !reserved.has(k));
    return JSON.stringify({
      time: r.time,
      level: r.level,
      msg: r.message,
      ...Object.fromEntries(extra.map(([k, v]) => [k, typeof v === 'bigint' ? String(v) : v])),
    });
  }
  const parts = Object.entries(r.fields).map(([k, v]) => `${k}=${textValue(v)}`);
  return `${r.time} ${r.level.toUpperCase().padEnd(5)} ${r.message}${parts.length ? ' ' + parts.join(' ') : ''}`;
}

function write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  const wanted = ORDER[level] >= ORDER[threshold];
  if (!wanted && listeners.length === 0) return;
  while (startupWarnings.length > 0) {
    const warning = startupWarnings.shift()!;
    write('warn', 'logging setting ignored', { reason: warning });
  }
  const record: LogRecord = {
    time: new Date().toISOString(),
    level,
    message,
    fields: fieldsOf(fields),
  };
  if (listeners.length > 0) {
    const text = formatRecord(record, 'text');
    for (const l of listeners) l(text, level);
  }
  if (toStderr && wanted) process.stderr.write(formatRecord(record, format) + '\n');
}

export const log = {
  debug: (m: string, f?: Record<string, unknown>) => write('debug', m, f),
  info: (m: string, f?: Record<string, unknown>) => write('info', m, f),
  warn: (m: string, f?: Record<string, unknown>) => write('warn', m, f),
  error: (m: string, f?: Record<string, unknown>) => write('error', m, f),
};
