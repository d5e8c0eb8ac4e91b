// Log lines: the level and format settings, the JSON mode, and secrets never written.
import { strict as assert } from 'node:assert';
import {
  formatRecord,
  log,
  onLogLine,
  parseFormat,
  parseLevel,
  type LogRecord,
} from '../../firmware/log';

const record = (fields: Record<string, unknown>): LogRecord => ({
  time: '2026-11-28T07:00:00.000Z',
  level: 'warn',
  message: 'forwarding paused',
  fields,
});

describe('log lines', () => {
  it('reads a level in any case, and nothing else as a level', () => {
    assert.equal(parseLevel('DEBUG'), 'debug');
    assert.equal(parseLevel(' warn '), 'warn');
    assert.equal(parseLevel('verbose'), undefined);
    assert.equal(parseLevel(''), undefined);
    assert.equal(parseFormat('JSON'), 'json');
    assert.equal(parseFormat('yaml'), undefined);
  });

  it('writes text as key=value, quoting what needs it', () => {
    assert.equal(
      formatRecord(
        record({ dest: 'pacs', reason: 'connect ECONNREFUSED 10.0.0.9:104', n: 3 }),
        'text',
      ),
      '2026-11-28T07:00:00.000Z WARN  forwarding paused dest=pacs reason="connect ECONNREFUSED 10.0.0.9:104" n=3',
    );
  });

  it('writes JSON as one object per line, its own keys first and not overwritten by a field', () => {
    const line = formatRecord(
      record({ dest: 'pacs', msg: 'a field named msg', failures: 2 }),
      'json',
    );
    assert.ok(!line.includes('\n'));
    assert.deepEqual(JSON.parse(line), {
      time: '2026-11-28T07:00:00.000Z',
      level: 'warn',
      msg: 'forwarding paused',
      dest: 'pacs',
      failures: 2,
    });
  });

  it('never writes the value of a field whose name says it is a secret', () => {
    const lines: string[] = [];
    const stop = onLogLine((line) => lines.push(line));
    try {
      log.debug('node changed', {
        node: 'pacs',
        password: 'hunter2',
        authToken: 'abc',
        keyFile: '/k',
      });
    } finally {
      stop();
    }
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0]!, /hunter2|abc/);
    assert.match(lines[0]!, /password=\[redacted\] authToken=\[redacted\] keyFile=\/k/);
  });
});
