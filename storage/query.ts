// Compiles a C-FIND style query into SQL with bound parameters. Nothing from the
// identifier is ever pasted into SQL text: values go into parameters, and column names
// come only from the fixed catalogue below. Pure: builds {sql, params}; index.ts runs it.

import {
  INDEXED_ATTRIBUTES,
  type IndexedAttributeName,
  type IndexTable,
} from './indexed-attributes';

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';
export const LEVEL_ORDER: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];

const TABLE_ALIAS = { patients: 'p', studies: 'st', series: 'se', instances: 'i' } as const;
const TABLE_LEVEL = {
  patients: 'PATIENT',
  studies: 'STUDY',
  series: 'SERIES',
  instances: 'IMAGE',
} as const satisfies Record<IndexTable, QueryLevel>;

/** The indexed attributes (declared in indexed-attributes.ts) as query columns. */
const STORED = Object.fromEntries(
  INDEXED_ATTRIBUTES.map((a) => [
    a.name,
    { sql: `${TABLE_ALIAS[a.table]}.${a.column}`, level: TABLE_LEVEL[a.table] },
  ]),
) as Record<IndexedAttributeName, { sql: string; level: QueryLevel }>;

/** Every column a query may match or return, by name, with its SQL expression and level. */
export const COLUMNS = {
  ...STORED,
  patientStudies: {
    sql: '(SELECT COUNT(*) FROM studies x WHERE x.patient_pk = p.pk)',
    level: 'PATIENT',
  },
  patientSeries: {
    sql: '(SELECT COUNT(*) FROM series x JOIN studies y ON x.study_pk = y.pk WHERE y.patient_pk = p.pk)',
    level: 'PATIENT',
  },
  patientInstances: {
    sql:
      '(SELECT COUNT(*) FROM instances x JOIN series y ON x.series_pk = y.pk JOIN studies z ON y.study_pk = z.pk ' +
      'WHERE z.patient_pk = p.pk)',
    level: 'PATIENT',
  },
  studyInstanceUid: { sql: 'st.study_instance_uid', level: 'STUDY' },
  studySeries: { sql: '(SELECT COUNT(*) FROM series x WHERE x.study_pk = st.pk)', level: 'STUDY' },
  studyInstances: {
    sql: '(SELECT COUNT(*) FROM instances x JOIN series y ON x.series_pk = y.pk WHERE y.study_pk = st.pk)',
    level: 'STUDY',
  },
  modalitiesInStudy: {
    sql: "(SELECT replace(group_concat(DISTINCT x.modality), ',', '\\') FROM series x WHERE x.study_pk = st.pk AND x.modality <> '')",
    level: 'STUDY',
  },
  sopClassesInStudy: {
    sql:
      "(SELECT replace(group_concat(DISTINCT x.sop_class_uid), ',', '\\') FROM instances x JOIN series y " +
      'ON x.series_pk = y.pk WHERE y.study_pk = st.pk)',
    level: 'STUDY',
  },
  seriesInstanceUid: { sql: 'se.series_instance_uid', level: 'SERIES' },
  seriesInstances: {
    sql: '(SELECT COUNT(*) FROM instances x WHERE x.series_pk = se.pk)',
    level: 'SERIES',
  },
  sopInstanceUid: { sql: 'i.sop_instance_uid', level: 'IMAGE' },
  sopClassUid: { sql: 'i.sop_class_uid', level: 'IMAGE' },
  specificCharacterSet: { sql: 'i.specific_character_set', level: 'IMAGE' },
  // What retrieval needs to send an instance (never returned in a C-FIND response).
  transferSyntaxUid: { sql: 'i.transfer_syntax_uid', level: 'IMAGE' },
  path: { sql: 'i.path', level: 'IMAGE' },
  datasetOffset: { sql: 'i.dataset_offset', level: 'IMAGE' },
  size: { sql: 'i.size', level: 'IMAGE' },
} as const satisfies Record<string, { sql: string; level: QueryLevel }>;

export type ColumnName = keyof typeof COLUMNS;

export type Condition =
  | {
      readonly kind: 'equal';
      readonly column: ColumnName;
      readonly value: string;
      readonly ignoreCase: boolean;
    }
  | {
      readonly kind: 'wildcard';
      readonly column: ColumnName;
      readonly pattern: string;
      readonly ignoreCase: boolean;
    }
  | { readonly kind: 'list'; readonly column: ColumnName; readonly values: readonly string[] }
  /**
   * A person name (PN), exact or with * and ?: it matches the whole value or any of its
   * component groups (alphabetic = ideographic = phonetic, PS3.5 §6.2.1), case-insensitive.
   */
  | { readonly kind: 'person-name'; readonly column: ColumnName; readonly pattern: string }
  | {
      readonly kind: 'range';
      readonly column: ColumnName;
      readonly from?: string;
      readonly to?: string;
    }
  /** Matches a study having a series of one of these modalities (Modalities in Study). */
  | { readonly kind: 'study-has-modality'; readonly values: readonly string[] };

export interface IndexQuery {
  readonly level: QueryLevel;
  readonly conditions: readonly Condition[];
  readonly select: readonly ColumnName[];
  readonly limit?: number;
}

const JOINS: Record<QueryLevel, string> = {
  PATIENT: 'FROM patients p',
  STUDY: 'FROM studies st JOIN patients p ON p.pk = st.patient_pk',
  SERIES:
    'FROM series se JOIN studies st ON st.pk = se.study_pk JOIN patients p ON p.pk = st.patient_pk',
  IMAGE:
    'FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk ' +
    'JOIN patients p ON p.pk = st.patient_pk',
};

const ORDER: Record<QueryLevel, string> = {
  PATIENT: 'p.patient_id',
  STUDY: 'st.study_date, st.study_time, st.pk',
  SERIES: 'se.pk',
  IMAGE: 'i.pk',
};

/** * and ? to GLOB (case-sensitive) with the GLOB specials of the value taken literally. */
function toGlob(pattern: string): string {
  return pattern
    .replace(/[[\]]/g, (c) => `[${c}]`)
    .replace(/\*/g, '*')
    .replace(/\?/g, '?');
}

/** * and ? to LIKE (ASCII case-insensitive in SQLite) with % _ and \ escaped. */
function toLike(pattern: string): string {
  return pattern
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

export function compileQuery(q: IndexQuery): { sql: string; params: Array<string | number> } {
  const allowed = LEVEL_ORDER.slice(0, LEVEL_ORDER.indexOf(q.level) + 1);
  const params: Array<string | number> = [];
  const where: string[] = [];
  const check = (column: ColumnName): string => {
    const c = COLUMNS[column];
    if (!allowed.includes(c.level))
      throw new Error(`column ${column} is below the ${q.level} level`);
    return c.sql;
  };
  for (const c of q.conditions) {
    switch (c.kind) {
      case 'equal':
        where.push(
          c.ignoreCase ? `lower(${check(c.column)}) = lower(?)` : `${check(c.column)} = ?`,
        );
        params.push(c.value);
        break;
      case 'wildcard':
        if (c.ignoreCase) {
          where.push(`${check(c.column)} LIKE ? ESCAPE '\\'`);
          params.push(toLike(c.pattern));
        } else {
          where.push(`${check(c.column)} GLOB ?`);
          params.push(toGlob(c.pattern));
        }
        break;
      case 'person-name':
        // '=' around the value and around the pattern: "=A=B=C=" holds "=B=", and the
        // whole "=A=B=C=" itself; a pattern with '=' in it matches whole groups in a row.
        where.push(`('=' || ${check(c.column)} || '=') LIKE ? ESCAPE '\\'`);
        params.push(`%=${toLike(c.pattern)}=%`);
        break;
      case 'list':
        where.push(`${check(c.column)} IN (${c.values.map(() => '?').join(', ')})`);
        params.push(...c.values);
        break;
      case 'range': {
        const col = check(c.column);
        where.push(`${col} <> ''`);
        if (c.from) {
          where.push(`${col} >= ?`);
          params.push(c.from);
        }
        if (c.to) {
          where.push(`${col} <= ?`);
          params.push(c.to);
        }
        break;
      }
      case 'study-has-modality':
        if (!allowed.includes('STUDY')) throw new Error('Modalities in Study is a study-level key');
        where.push(
          `EXISTS (SELECT 1 FROM series m WHERE m.study_pk = st.pk AND m.modality IN (${c.values.map(() => '?').join(', ')}))`,
        );
        params.push(...c.values);
        break;
    }
  }
  const select = q.select.map((name) => `${check(name)} AS ${name}`);
  const sql =
    `SELECT ${select.length ? select.join(', ') : '1 AS one'} ${JOINS[q.level]}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${ORDER[q.level]}` +
    (q.limit ? ` LIMIT ${Math.floor(q.limit)}` : '');
  return { sql, params };
}
