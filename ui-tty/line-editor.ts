// The line discipline of the serial console, as a pure function of the bytes typed.
// Terminal programs (minicom, screen, picocom) send each key as typed and show only what
// the far end echoes, so the box echoes: printable characters as they come, backspace as
// "\b \b", the end of a line as CRLF. Enter may arrive as CR, LF or CRLF (one line, not two);
// arrow and function keys (ESC sequences) are swallowed rather than landing in the line.
export interface Keystrokes {
  /** What to send back to the terminal. */
  readonly echo: string;
  /** Lines completed by these bytes, without their line ending. */
  readonly lines: string[];
  /** Ctrl-C was typed: the line was dropped. */
  readonly interrupted: boolean;
}

export const MAX_LINE = 256;

const BEL = '\x07';

export class LineEditor {
  private line = '';
  private afterCr = false;
  /** 0: text; 1: after ESC; 2: inside a CSI sequence (ESC [ ... final byte). */
  private escape: 0 | 1 | 2 = 0;

  feed(bytes: Uint8Array): Keystrokes {
    let echo = '';
    const lines: string[] = [];
    let interrupted = false;
    for (const b of bytes) {
      const afterCr = this.afterCr;
      this.afterCr = false;
      if (this.escape === 1) {
        this.escape = b === 0x5b || b === 0x4f ? 2 : 0; // ESC [ (CSI) or ESC O (SS3)
        continue;
      }
      if (this.escape === 2) {
        if (b >= 0x40 && b <= 0x7e) this.escape = 0;
        continue;
      }
      if (b === 0x0d || b === 0x0a) {
        if (b === 0x0a && afterCr) continue; // the LF of a CRLF
        this.afterCr = b === 0x0d;
        lines.push(this.line);
        this.line = '';
        echo += '\r\n';
      } else if (b === 0x08 || b === 0x7f) {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          echo += '\b \b';
        }
      } else if (b === 0x03) {
        this.line = '';
        interrupted = true;
        echo += '^C\r\n';
      } else if (b === 0x15) {
        echo += '\b \b'.repeat(this.line.length); // Ctrl-U: erase the line
        this.line = '';
      } else if (b === 0x1b) {
        this.escape = 1;
      } else if (b >= 0x20 && b < 0x7f) {
        if (this.line.length >= MAX_LINE) {
          echo += BEL;
        } else {
          this.line += String.fromCharCode(b);
          echo += String.fromCharCode(b);
        }
      }
      // Any other byte (other controls, 8-bit characters, line noise) is dropped.
    }
    return { echo, lines, interrupted };
  }
}
