// The worklist copy in the index (schema 008): the items replicated from the worklist source
// with the time each was first and last listed, the replication's state (kept across
// restarts: the copy's age survives a reboot during an outage), and the instances whose
// patient differed from their item, with what their forwarded copies are to carry instead.
// The replication and the SCP are firmware/worklist's; this module is their SQL.
import { WORKLIST_ATTRIBUTES, type WorklistValues } from './worklist-attributes';
import type { Params, Sqlite } from './sqlite';

export type * from './worklist-attributes';

/** One Scheduled Procedure Step as the source listed it. */
export interface WorklistItemRecord {
  /** Who the item is across replications (firmware/worklist/mwl-item.ts). */
  readonly key: string;
  /** SHA-256 of `dataset`: a change of content is a change of digest. */
  readonly digest: string;
  /** The identifier in Explicit VR Little Endian, values as the source sent them. */
  readonly dataset: Buffer;
  readonly specificCharacterSet: string;
  readonly values: WorklistValues;
}

export interface StoredWorklistItem extends WorklistItemRecord {
  readonly pk: number;
  readonly firstSeenAt: string;
  readonly changedAt: string;
  readonly lastSeenAt: string;
}

/** Where a page of the copy starts: after this item in schedule order. */
export interface WorklistCursor {
  readonly date: string;
  readonly time: string;
  readonly pk: number;
}

/** The replication's state, as kept. */
export interface ReplicationState {
  /** The node last replicated from. */
  readonly source: string;
  readonly sweep: number;
  readonly lastSuccessAt: string | null;
  readonly lastAttemptAt: string | null;
  /** The first failure of the failures in a row since the last success; null while it works. */
  readonly failingSince: string | null;
  readonly lastError: string | null;
  readonly truncated: boolean;
}

/** An attribute of an instance that differs from its worklist item. */
export interface Difference {
  readonly attribute: 'PatientName' | 'PatientID' | 'PatientBirthDate';
  readonly received: string;
  readonly scheduled: string;
}

/** An element the forwarded copy carries instead of the instance's own. */
export interface CoercedElement {
  readonly tag: number;
  readonly vr: string;
  /** The value's bytes, in the instance's character set, padded to even length. */
  readonly value: Buffer;
}

export interface WorklistMismatch {
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly accessionNumber: string;
  readonly callingAe: string;
  readonly receivedAt: string;
  readonly matchedBy: 'accession' | 'study';
  readonly itemKey: string;
  readonly differences: readonly Difference[];
  /** The elements coerced in forwarded copies; null when the rule only lists. */
  readonly coercion: readonly CoercedElement[] | null;
  readonly note: string | null;
}

const COLUMNS = WORKLIST_ATTRIBUTES.map((a) => a.column);
/** The item's columns under the names of its fields. */
const SELECT_ITEM = [
  'pk',
  'item_key AS key',
  'digest',
  'dataset',
  'specific_character_set AS specificCharacterSet',
  'first_seen_at AS firstSeenAt',
  'changed_at AS changedAt',
  'last_seen_at AS lastSeenAt',
  ...WORKLIST_ATTRIBUTES.map((a) => `${a.column} AS ${a.name}`),
].join(', ');

type ItemRow = Omit<StoredWorklistItem, 'values'> & Record<string, unknown>;

function itemOf(row: ItemRow): StoredWorklistItem {
  const values = Object.fromEntries(
    WORKLIST_ATTRIBUTES.map((a) => [a.name, String(row[a.name] ?? '')]),
  ) as WorklistValues;
  return {
    pk: row.pk,
    key: row.key,
    digest: row.digest,
    dataset: row.dataset,
    specificCharacterSet: row.specificCharacterSet,
    firstSeenAt: row.firstSeenAt,
    changedAt: row.changedAt,
    lastSeenAt: row.lastSeenAt,
    values,
  };
}

const UPSERT = `INSERT INTO worklist_items (item_key, digest, dataset, specific_character_set,
    ${COLUMNS.join(', ')}, first_seen_at, changed_at, last_seen_at, sweep)
  VALUES (${['?', '?', '?', '?', ...COLUMNS.map(() => '?'), '?', '?', '?', '?'].join(', ')})
  ON CONFLICT (item_key) DO UPDATE SET
    changed_at = CASE WHEN worklist_items.digest = excluded.digest
                      THEN worklist_items.changed_at ELSE excluded.changed_at END,
    digest = excluded.digest, dataset = excluded.dataset,
    specific_character_set = excluded.specific_character_set,
    ${COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')},
    last_seen_at = excluded.last_seen_at, sweep = excluded.sweep`;

interface MismatchRow {
  sopInstanceUid: string;
  studyInstanceUid: string;
  accessionNumber: string;
  callingAe: string;
  receivedAt: string;
  matchedBy: 'accession' | 'study';
  itemKey: string;
  differences: string;
  coercion: string | null;
  note: string | null;
}

const SELECT_MISMATCH = `SELECT sop_instance_uid AS sopInstanceUid, study_instance_uid AS studyInstanceUid,
    accession_number AS accessionNumber, calling_ae AS callingAe, received_at AS receivedAt,
    matched_by AS matchedBy, item_key AS itemKey, differences, coercion, note
  FROM worklist_mismatches`;

function coercionFromJson(json: string | null): CoercedElement[] | null {
  if (json === null) return null;
  const parsed = JSON.parse(json) as Array<{ tag: number; vr: string; value: string }>;
  return parsed.map((e) => ({ tag: e.tag, vr: e.vr, value: Buffer.from(e.value, 'base64') }));
}

function mismatchOf(row: MismatchRow): WorklistMismatch {
  return {
    ...row,
    differences: JSON.parse(row.differences) as Difference[],
    coercion: coercionFromJson(row.coercion),
  };
}

export class WorklistStore {
  constructor(private readonly sql: Sqlite) {}

  // ---- the replication ---------------------------------------------------------------

  /** Starts a replication from `source`: its number, above every item's. */
  async beginSweep(source: string, at: string): Promise<number> {
    return this.sql.transaction(async () => {
      await this.sql.run(
        'UPDATE worklist_source SET sweep = sweep + 1, source = ?, last_attempt_at = ? WHERE id = 1',
        [source, at],
      );
      const row = await this.sql.get<{ sweep: number }>(
        'SELECT sweep FROM worklist_source WHERE id = 1',
        [],
      );
      return row!.sweep;
    });
  }

  /**
   * Items the source listed in replication `sweep`, in one transaction: new ones added,
   * changed ones replaced (changed_at moves), all marked seen now. Returns how many were
   * new and how many changed.
   */
  async upsert(
    sweep: number,
    items: readonly WorklistItemRecord[],
    at: string,
  ): Promise<{ added: number; changed: number }> {
    if (items.length === 0) return { added: 0, changed: 0 };
    return this.sql.transaction(async () => {
      const known = new Map(
        (
          await this.sql.all<{ key: string; digest: string }>(
            `SELECT item_key AS key, digest FROM worklist_items
              WHERE item_key IN (SELECT value FROM json_each(?))`,
            [JSON.stringify(items.map((i) => i.key))],
          )
        ).map((r) => [r.key, r.digest]),
      );
      let added = 0;
      let changed = 0;
      for (const item of items) {
        const before = known.get(item.key);
        if (before === undefined) added++;
        else if (before !== item.digest) changed++;
        known.set(item.key, item.digest); // listed twice in one replication: counted once
        await this.sql.run(UPSERT, upsertValues(item, at, sweep));
      }
      return { added, changed };
    });
  }

  /** Items no replication since `sweep` listed: the source no longer has them. */
  async removeUnseen(sweep: number): Promise<number> {
    return this.sql.run('DELETE FROM worklist_items WHERE sweep < ?', [sweep]);
  }

  /** A complete replication: the copy is as of `at`. */
  async recordSuccess(at: string, truncated: boolean): Promise<void> {
    await this.sql.run(
      `UPDATE worklist_source SET last_success_at = ?, failing_since = NULL, last_error = NULL,
              truncated = ? WHERE id = 1`,
      [at, truncated ? 1 : 0],
    );
  }

  /** A replication that failed: the copy stays as it was. */
  async recordFailure(at: string, error: string): Promise<void> {
    await this.sql.run(
      `UPDATE worklist_source SET failing_since = COALESCE(failing_since, ?), last_error = ?
        WHERE id = 1`,
      [at, error],
    );
  }

  async state(): Promise<ReplicationState> {
    const row = await this.sql.get<Omit<ReplicationState, 'truncated'> & { truncated: number }>(
      `SELECT source, sweep, last_success_at AS lastSuccessAt, last_attempt_at AS lastAttemptAt,
              failing_since AS failingSince, last_error AS lastError, truncated
         FROM worklist_source WHERE id = 1`,
      [],
    );
    return { ...row!, truncated: row!.truncated === 1 };
  }

  // ---- the copy ------------------------------------------------------------------------

  async count(): Promise<number> {
    const row = await this.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM worklist_items', []);
    return row?.n ?? 0;
  }

  /**
   * Up to `limit` items after `after` in schedule order (start date, time, then the order
   * they came in), those of a start date in [from, to] when given: the SCP matches a page
   * at a time, so a query costs one page of memory however large the copy.
   */
  async page(
    after: WorklistCursor | null,
    limit: number,
    dates: { readonly from?: string; readonly to?: string } = {},
  ): Promise<StoredWorklistItem[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (after) {
      where.push('(sps_start_date, sps_start_time, pk) > (?, ?, ?)');
      params.push(after.date, after.time, after.pk);
    }
    if (dates.from) {
      where.push('sps_start_date >= ?');
      params.push(dates.from);
    }
    if (dates.to) {
      where.push('sps_start_date <= ?');
      params.push(dates.to);
    }
    const rows = await this.sql.all<ItemRow>(
      `SELECT ${SELECT_ITEM} FROM worklist_items
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY sps_start_date, sps_start_time, pk LIMIT ?`,
      [...params, limit],
    );
    return rows.map(itemOf);
  }

  /**
   * The item an arriving instance belongs to: by its Accession Number, else by its Study
   * Instance UID (the most recently listed, should the source list two).
   */
  async itemFor(
    accessionNumber: string,
    studyInstanceUid: string,
  ): Promise<{ item: StoredWorklistItem; matchedBy: 'accession' | 'study' } | undefined> {
    for (const [column, value, matchedBy] of [
      ['accession_number', accessionNumber, 'accession'],
      ['study_instance_uid', studyInstanceUid, 'study'],
    ] as const) {
      if (value === '') continue;
      const row = await this.sql.get<ItemRow>(
        `SELECT ${SELECT_ITEM} FROM worklist_items WHERE ${column} = ?
          ORDER BY last_seen_at DESC, pk DESC LIMIT 1`,
        [value],
      );
      if (row) return { item: itemOf(row), matchedBy };
    }
    return undefined;
  }

  // ---- the checks on arrival -----------------------------------------------------------

  /** Records (or replaces) what an arriving instance's check found. */
  async recordMismatch(m: WorklistMismatch): Promise<void> {
    await this.sql.run(
      `INSERT OR REPLACE INTO worklist_mismatches (sop_instance_uid, study_instance_uid,
         accession_number, calling_ae, received_at, matched_by, item_key, differences, coercion, note)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        m.sopInstanceUid,
        m.studyInstanceUid,
        m.accessionNumber,
        m.callingAe,
        m.receivedAt,
        m.matchedBy,
        m.itemKey,
        JSON.stringify(m.differences),
        m.coercion === null
          ? null
          : JSON.stringify(
              m.coercion.map((e) => ({ tag: e.tag, vr: e.vr, value: e.value.toString('base64') })),
            ),
        m.note,
      ],
    );
  }

  /** A re-send that agrees with its item: what an earlier copy's check found no longer holds. */
  async clearMismatch(sopInstanceUid: string): Promise<void> {
    await this.sql.run('DELETE FROM worklist_mismatches WHERE sop_instance_uid = ?', [
      sopInstanceUid,
    ]);
  }

  /** The most recent mismatches first. */
  async mismatches(limit: number): Promise<WorklistMismatch[]> {
    const rows = await this.sql.all<MismatchRow>(
      `${SELECT_MISMATCH} ORDER BY received_at DESC, sop_instance_uid LIMIT ?`,
      [limit],
    );
    return rows.map(mismatchOf);
  }

  async mismatchCount(): Promise<number> {
    const row = await this.sql.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM worklist_mismatches',
      [],
    );
    return row?.n ?? 0;
  }

  /** The elements a forwarded copy of this instance carries instead, if a rule coerced it. */
  async coercionFor(sopInstanceUid: string): Promise<CoercedElement[] | undefined> {
    const row = await this.sql.get<{ coercion: string | null }>(
      'SELECT coercion FROM worklist_mismatches WHERE sop_instance_uid = ?',
      [sopInstanceUid],
    );
    const coercion = coercionFromJson(row?.coercion ?? null);
    return coercion && coercion.length > 0 ? coercion : undefined;
  }
}

function upsertValues(item: WorklistItemRecord, at: string, sweep: number): Params {
  return [
    item.key,
    item.digest,
    item.dataset,
    item.specificCharacterSet,
    ...WORKLIST_ATTRIBUTES.map((a) => item.values[a.name]),
    at,
    at,
    at,
    sweep,
  ];
}
