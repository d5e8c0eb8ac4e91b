// The one SQLite connection of the index and the small helpers every module of storage/
// uses on it. WAL with synchronous=NORMAL: a commit does not flush, so an instance's only
// flush is its file's (promise 1 rests on the files: after a power cut the last commits may
// be gone, and the start-up check makes the index whole from the files). What must not be
// lost that the files cannot tell — before files are deleted, a delivery marked — waits
// for durable(), which flushes the log.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sqlite3 from 'sqlite3';

/** Bound values; a Buffer is bound as a BLOB. */
export type Params = ReadonlyArray<string | number | null | Buffer>;

export class Sqlite {
  /** One multi-statement transaction at a time on the connection. */
  private lock: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The driver's handle, for what needs its serialize mode (grouped commits). */
    readonly db: sqlite3.Database,
  ) {}

  static async open(file: string): Promise<Sqlite> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
    });
    const sqlite = new Sqlite(db);
    // Small pages for a new index: every commit writes each page it touched whole into the
    // WAL (and a checkpoint writes it again), and a received instance touches a handful of
    // rows in as many pages. At 1 KB instead of 4 KB the index adds about a quarter of the
    // bytes per instance to what an SD card must write. An existing index keeps its size.
    await sqlite.exec('PRAGMA page_size = 1024');
    await sqlite.exec('PRAGMA journal_mode = WAL');
    await sqlite.exec('PRAGMA synchronous = NORMAL');
    // A checkpoint flushes twice (the log, then the database): at SQLite's default of one
    // per 1,000 pages it came every hundred-odd instances. One per 10,000 pages (10 MB of
    // log at 1 KB pages) leaves the instances' own flushes almost alone on the card.
    await sqlite.exec('PRAGMA wal_autocheckpoint = 10000');
    await sqlite.exec('PRAGMA busy_timeout = 5000');
    await sqlite.exec('PRAGMA foreign_keys = ON');
    return sqlite;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.close((err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * Makes every commit so far durable: a checkpoint, which flushes the log first (with
   * synchronous=NORMAL a commit alone does not).
   */
  async durable(): Promise<void> {
    await this.exclusive(() => this.exec('PRAGMA wal_checkpoint(PASSIVE)'));
  }

  /** Runs fn alone on the connection (no other transaction interleaves). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** fn inside BEGIN IMMEDIATE ... COMMIT, rolled back if it throws. */
  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn();
        await this.exec('COMMIT');
        return result;
      } catch (err) {
        await this.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.exec(sql, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Runs a statement; resolves with the number of rows it changed. */
  run(sql: string, params: Params): Promise<number> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, function (err) {
        if (err) reject(err);
        else resolve(this.changes);
      }),
    );
  }

  all<T>(sql: string, params: Params): Promise<T[]> {
    return new Promise((resolve, reject) =>
      this.db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T[]))),
    );
  }

  get<T>(sql: string, params: Params): Promise<T | undefined> {
    return new Promise((resolve, reject) =>
      this.db.get(sql, params, (err, row) => (err ? reject(err) : resolve(row as T | undefined))),
    );
  }
}
