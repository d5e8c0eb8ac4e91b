// The serial console's line discipline: what a terminal program sends, byte by byte.
import { strict as assert } from 'node:assert';
import { LineEditor, MAX_LINE } from '../../ui-tty/line-editor';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('line editor', () => {
  it('echoes what is typed and ends a line on CR, LF or CRLF (one line each)', () => {
    const e = new LineEditor();
    assert.deepEqual(e.feed(bytes('status\r')), {
      echo: 'status\r\n',
      lines: ['status'],
      interrupted: false,
    });
    assert.deepEqual(e.feed(bytes('queue\r\nlog\n')).lines, ['queue', 'log']);
    // A CRLF split across two reads is still one line.
    assert.deepEqual(e.feed(bytes('help\r')).lines, ['help']);
    assert.deepEqual(e.feed(bytes('\nshow config\r')).lines, ['show config']);
    // An empty line is a line (the console answers it with a new prompt).
    assert.deepEqual(e.feed(bytes('\r\r')).lines, ['', '']);
  });

  it('handles backspace and DEL, and does not erase past the start of the line', () => {
    const e = new LineEditor();
    const typed = e.feed(bytes('sx\x7f\x08\x08status\r'));
    assert.deepEqual(typed.lines, ['status']);
    assert.equal(typed.echo, 'sx\b \b\b \bstatus\r\n');
  });

  it('Ctrl-C drops the line, Ctrl-U erases it', () => {
    const e = new LineEditor();
    const c = e.feed(bytes('node rm pacs\x03'));
    assert.equal(c.interrupted, true);
    assert.deepEqual(c.lines, []);
    assert.equal(e.feed(bytes('queue\r')).lines[0], 'queue');
    const u = e.feed(bytes('abc\x15log\r'));
    assert.deepEqual(u.lines, ['log']);
    assert.equal(u.echo, 'abc' + '\b \b'.repeat(3) + 'log\r\n');
  });

  it('swallows arrow keys and other escape sequences', () => {
    const e = new LineEditor();
    // Up, Down (CSI), F1 (SS3), Delete (CSI 3 ~), then text.
    const typed = e.feed(bytes('\x1b[A\x1b[B\x1bOP\x1b[3~help\r'));
    assert.deepEqual(typed.lines, ['help']);
    assert.equal(typed.echo, 'help\r\n');
  });

  it('drops line noise: other control bytes and 8-bit bytes', () => {
    const e = new LineEditor();
    const typed = e.feed(Buffer.from([0x00, 0x71, 0xff, 0x07, 0x75, 0x80, 0x65, 0x75, 0x65, 0x0d]));
    assert.deepEqual(typed.lines, ['queue']);
  });

  it('refuses characters beyond the longest line with a bell', () => {
    const e = new LineEditor();
    const typed = e.feed(Buffer.alloc(MAX_LINE + 10, 0x61));
    assert.equal(typed.echo.length, MAX_LINE + 10);
    assert.equal(typed.echo.slice(MAX_LINE), '\x07'.repeat(10));
    assert.equal(e.feed(bytes('\r')).lines[0]!.length, MAX_LINE);
  });

  it('survives random garbage and still reads the next line', () => {
    const e = new LineEditor();
    let seed = 7;
    const random = Buffer.alloc(5000);
    for (let i = 0; i < random.length; i++)
      random[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    e.feed(random);
    e.feed(bytes('\x03')); // whatever state it is in, Ctrl-C and a fresh line
    // An escape sequence may be open; a final byte closes it.
    e.feed(bytes('~'));
    assert.deepEqual(e.feed(bytes('\x15status\r')).lines, ['status']);
  });
});
