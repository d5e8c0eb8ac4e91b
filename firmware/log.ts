// One line per event, to stderr (the journal on the appliance). Fields are key=value so a
// line can be grepped by peer, SOP instance or status.
export type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold: Level = (process.env.DICOM_EDGE_LOG as Level | undefined) ?? 'info';
const listeners: Array<(line: string, level: Level) => void> = [];

export function setLogLevel(level: Level): void {
  threshold = level;
}

let toStderr = true;

/** Off while a dashboard owns this terminal (its events panel shows the lines instead). */
export function setStderrLogging(on: boolean): void {
  toStderr = on;
}

/** Lets the control API and tests observe log lines (recent events). */
export function onLogLine(listener: (line: string, level: Level) => void): () => void {
  listeners.push(listener);
  return () => listeners.splice(listeners.indexOf(listener), 1);
}

function format(value: unknown): string {
  const s = typeof value === 'string' ? value : String(value);
  return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s;
}

function write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[threshold] && listeners.length === 0) return;
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${format(v)}`);
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${parts.length ? ' ' + parts.join(' ') : ''}`;
  for (const l of listeners) l(line, level);
  if (toStderr && ORDER[level] >= ORDER[threshold]) process.stderr.write(line + '\n');
}

export const log = {
  debug: (m: string, f?: Record<string, unknown>) => write('debug', m, f),
  info: (m: string, f?: Record<string, unknown>) => write('info', m, f),
  warn: (m: string, f?: Record<string, unknown>) => write('warn', m, f),
  error: (m: string, f?: Record<string, unknown>) => write('error', m, f),
};
