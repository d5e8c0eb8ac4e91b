// From a C-FIND / C-MOVE / C-GET identifier to an index query (PS3.4 C.2.2.2, C.4.1.2.2,
// C.4.2.2.1). Matching: universal (empty), single value, wildcards * and ?, UID lists,
// date/time ranges; person names without regard to case. Bad identifiers raise
// QueryError with the standard's status: A900 (identifier does not match SOP class) for
// structure, C000 (unable to process) for what cannot be read.
import { decodeText } from '../../dicom/dataset/charset';
import type { Element } from '../../dicom/dataset/dataset-writer';
import { Status } from '../../dicom/dimse/status';
import { Tag } from '../../dicom/registry/tags';
import {
  LEVEL_ORDER,
  type ColumnName,
  type Condition,
  type QueryLevel,
} from '../../../storage/query';
import { BY_TAG, levelIn, type InformationModel } from './attributes';

export class QueryError extends Error {
  override name = 'QueryError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ReturnKey {
  readonly tag: number;
  readonly vr: string;
  /** Where the value comes from; undefined: a key the index does not hold (returned empty). */
  readonly column?: ColumnName;
}

export interface Query {
  readonly level: QueryLevel;
  readonly conditions: Condition[];
  readonly returnKeys: ReturnKey[];
}

function text(e: Element, charset: string): string {
  const v = e.value as Buffer;
  return decodeText(v, charset).trim();
}

/** Reads the identifier: purpose 'find' matches every key; 'retrieve' only the unique keys. */
export function interpretIdentifier(
  elements: readonly Element[],
  model: InformationModel,
  purpose: 'find' | 'retrieve',
): Query {
  const byTag = new Map(elements.map((e) => [e.tag, e]));
  const charset = Buffer.isBuffer(byTag.get(Tag.SpecificCharacterSet)?.value)
    ? (byTag.get(Tag.SpecificCharacterSet)!.value as Buffer).toString('latin1').trim()
    : '';
  const levelElement = byTag.get(Tag.QueryRetrieveLevel);
  if (!levelElement || !Buffer.isBuffer(levelElement.value)) {
    throw new QueryError(
      Status.IdentifierDoesNotMatchSopClass,
      'Query/Retrieve Level (0008,0052) is missing',
    );
  }
  const level = levelElement.value.toString('latin1').trim() as QueryLevel;
  if (!LEVEL_ORDER.includes(level)) {
    throw new QueryError(
      Status.IdentifierDoesNotMatchSopClass,
      `unknown Query/Retrieve Level "${level.slice(0, 16)}"`,
    );
  }
  if (model === 'study' && level === 'PATIENT') {
    throw new QueryError(
      Status.IdentifierDoesNotMatchSopClass,
      'the Study Root model has no PATIENT level',
    );
  }
  const depth = LEVEL_ORDER.indexOf(level);
  const conditions: Condition[] = [];
  const returnKeys: ReturnKey[] = [];
  const uniqueSeen = new Set<QueryLevel>();

  for (const e of [...elements].sort((a, b) => a.tag - b.tag)) {
    if (
      e.tag === Tag.QueryRetrieveLevel ||
      e.tag === Tag.SpecificCharacterSet ||
      e.tag === Tag.RetrieveAeTitle
    )
      continue;
    if ((e.tag & 0xffff) === 0) continue; // group lengths
    const attribute = BY_TAG.get(e.tag);
    if (!attribute) {
      // A key the index does not hold: universal match, returned empty (C.2.2.1.1).
      returnKeys.push({ tag: e.tag, vr: e.vr });
      continue;
    }
    const attributeLevel = levelIn(model, attribute);
    if (LEVEL_ORDER.indexOf(attributeLevel) > depth) {
      throw new QueryError(
        Status.IdentifierDoesNotMatchSopClass,
        `${attribute.keyword} is a ${attributeLevel} key; the query is at ${level}`,
      );
    }
    returnKeys.push({ tag: e.tag, vr: attribute.vr, column: attribute.column });
    if (!Buffer.isBuffer(e.value)) continue; // sequence keys: universal
    const value =
      attribute.vr === 'UI' ? e.value.toString('latin1').replace(/[\0 ]+$/, '') : text(e, charset);
    if (value === '') continue;
    if (attribute.unique) uniqueSeen.add(attributeLevel);
    if (purpose === 'retrieve' && !attribute.unique) continue;
    const condition = conditionFor(attribute.matching, attribute.column, value);
    if (condition) conditions.push(condition);
  }
  if (
    purpose === 'retrieve' &&
    !uniqueSeen.has(level) &&
    !(level === 'PATIENT' && uniqueSeen.has('PATIENT'))
  ) {
    throw new QueryError(
      Status.IdentifierDoesNotMatchSopClass,
      `a ${level}-level retrieve needs the level's unique key`,
    );
  }
  return { level, conditions, returnKeys };
}

function conditionFor(matching: string, column: ColumnName, value: string): Condition | undefined {
  switch (matching) {
    case 'uid': {
      const uids = value
        .split('\\')
        .map((u) => u.trim())
        .filter((u) => u !== '');
      return uids.length > 1
        ? { kind: 'list', column, values: uids }
        : { kind: 'equal', column, value: uids[0]!, ignoreCase: false };
    }
    case 'date':
    case 'time': {
      const dash = value.indexOf('-');
      if (dash < 0) return { kind: 'equal', column, value, ignoreCase: false };
      const from = value.slice(0, dash).trim();
      const to = value.slice(dash + 1).trim();
      // An open end of a time range covers the whole of that end (C.2.2.2.5).
      return {
        kind: 'range',
        column,
        ...(from ? { from } : {}),
        ...(to ? { to: matching === 'time' ? `${to}~` : to } : {}),
      };
    }
    case 'modalities':
      return {
        kind: 'study-has-modality',
        values: value
          .split('\\')
          .map((m) => m.trim())
          .filter((m) => m !== ''),
      };
    case 'pn':
      // "*" alone is a universal match (C.2.2.2.4).
      if (/^\*+$/.test(value)) return undefined;
      return { kind: 'person-name', column, pattern: value };
    case 'text': {
      if (/[*?]/.test(value)) {
        if (/^\*+$/.test(value)) return undefined;
        return { kind: 'wildcard', column, pattern: value, ignoreCase: false };
      }
      return { kind: 'equal', column, value, ignoreCase: false };
    }
    default:
      return undefined;
  }
}
