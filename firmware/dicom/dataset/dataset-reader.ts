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

class InflatingReader implements DatasetHeadReader {
  private readonly inflater = zlib.createInflateRaw();
  private error: Error | null = null;
  private consumed = 0;

  constructor(private readonly scanner: DatasetScanner) {
    this.inflater.on('data', (c: Buffer) => {
      if (this.error) return;
      try {
        scanner.write(c);
      } catch (err) {
        this.error = err as Error;
      }
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
    this.consumed += chunk.length;
    if (!this.inflater.write(chunk)) {
      return new Promise((resolve) => {
        const done = (): void => {
          this.inflater.off('drain', done);
          this.inflater.off('error', done);
          resolve();
        };
        this.inflater.on('drain', done);
        this.inflater.on('error', done);
      });
    }
  }

  end(): Promise<Map<number, Buffer>> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        if (this.error) return reject(this.error);
        try {
          resolve(this.scanner.end());
        } catch (err) {
          reject(err);
        }
      };
      if (this.error) return reject(this.error);
      this.inflater.once('end', finish);
      this.inflater.once('error', finish);
      this.inflater.end();
    });
  }
}
