// Chooses how to walk a data set from its transfer syntax. A deflated data set (PS3.5
// §A.5) is inflated as it streams and the inflated bytes are walked; nothing is kept.
import * as zlib from 'node:zlib';
import { DatasetParseError } from '../errors';
import type { TransferSyntax } from '../registry/transfer-syntaxes';
import { DatasetScanner } from './dataset-scanner';

export interface DatasetHeadReader {
  /** Feed the next bytes of the data set as received. May ask the caller to wait. */
  write(chunk: Buffer): void | Promise<void>;
  /** The data set is complete: resolves to the wanted values, or rejects with DatasetParseError. */
  end(): Promise<Map<number, Buffer>>;
}

export function createDatasetReader(
  ts: TransferSyntax,
  wanted: ReadonlySet<number>,
): DatasetHeadReader {
  const scanner = new DatasetScanner(
    { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian },
    wanted,
  );
  if (!ts.deflated) {
    return {
      write: (chunk) => scanner.write(chunk),
      end: async () => scanner.end(),
    };
  }
  return new InflatingReader(scanner);
}

/**
 * Inflates as the bytes arrive and walks the result. PS3.5 §A.5: a deflated stream of odd
 * length is followed by one NULL pad byte, and the stream's own end marker (not the byte
 * count) says where the data set ends. zlib stops at that marker: it may say 'end' before
 * the last bytes were even written, and it silently ignores what follows. So the end is
 * remembered when it happens, and what came after it is checked here: one NULL byte is the
 * standard's padding, anything more is not part of a data set.
 */
class InflatingReader implements DatasetHeadReader {
  private readonly inflater = zlib.createInflateRaw();
  private error: Error | null = null;
  private consumed = 0;
  private lastByte = -1;
  private streamEnded = false;

  constructor(private readonly scanner: DatasetScanner) {
    this.inflater.on('data', (c: Buffer) => {
      if (this.error) return;
      try {
        scanner.write(c);
      } catch (err) {
        this.error = err as Error;
      }
    });
    this.inflater.on('end', () => {
      this.streamEnded = true;
    });
    this.inflater.on('error', (err) => {
      this.error ??= new DatasetParseError(
        `deflated data set does not inflate: ${err.message}`,
        this.consumed,
      );
    });
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this.error) throw this.error;
    if (chunk.length === 0) return;
    this.consumed += chunk.length;
    this.lastByte = chunk[chunk.length - 1]!;
    if (this.streamEnded) return; // past the end marker: only padding may follow (checked at end)
    if (!this.inflater.write(chunk)) {
      return new Promise((resolve) => {
        const done = (): void => {
          for (const e of ['drain', 'error', 'end'] as const) this.inflater.off(e, done);
          resolve();
        };
        for (const e of ['drain', 'error', 'end'] as const) this.inflater.on(e, done);
      });
    }
  }

  end(): Promise<Map<number, Buffer>> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        this.inflater.off('end', finish);
        this.inflater.off('error', finish);
        if (this.error) return reject(this.error);
        const trailing = this.consumed - this.inflater.bytesWritten;
        if (trailing > 1 || (trailing === 1 && this.lastByte !== 0)) {
          return reject(
            new DatasetParseError(
              `${trailing} byte(s) after the end of the deflated stream (only one NULL pad byte may follow)`,
              this.inflater.bytesWritten,
            ),
          );
        }
        try {
          resolve(this.scanner.end());
        } catch (err) {
          reject(err);
        }
      };
      if (this.error || this.streamEnded) return finish();
      this.inflater.once('end', finish);
      this.inflater.once('error', finish);
      this.inflater.end();
    });
  }
}
