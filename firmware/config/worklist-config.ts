// The modality worklist as the configuration states it (issue 29, firmware/worklist/): how
// the copy is replicated from the node marked `"worklistSource": true`, what the query
// asks the source, how long the copy is served once the source stops answering, and the
// opt-in checks of arriving instances against it.
import { aeTitle, patternList } from './checks';
import { bool, int, list, object, rule, seconds, type Infer } from './schema';

const DAY = 86400;

/** A Modality (0008,0060): a code string of 1-16 upper-case letters, digits, "_" or space. */
const modality = rule<string>((v) =>
  typeof v === 'string' && /^[A-Z0-9_ ]{1,16}$/.test(v)
    ? undefined
    : 'must be a modality code such as CT or MR (1-16 upper-case letters, digits, "_")',
);

/**
 * What the replication asks the source (PS3.4 K.6.1.2: matching keys of the Scheduled
 * Procedure Step): every item of these station AE titles and modalities (none given:
 * any) scheduled from `daysBefore` days before today to `daysAfter` days after it.
 */
const query = object({
  stationAeTitles: list(aeTitle).default([]),
  modalities: list(modality).default([]),
  daysBefore: int(0, 31).default(0),
  daysAfter: int(0, 31).default(1),
});
export type WorklistQueryConfig = Infer<typeof query>;

/**
 * A check of arriving instances against the worklist: instances of the callers and
 * modalities `when` names (all when absent), the first rule that matches deciding. An
 * instance whose Accession Number or Study Instance UID names an item but whose patient
 * name, ID or birth date differs is logged and listed; with `coerce`, the copies
 * forwarded carry the item's values instead (the cached original is never changed).
 */
const check = object({
  when: object(
    { callingAe: patternList.optional(), modality: patternList.optional() },
    { unknownKey: (_, known) => `is not a criterion of a check (use ${known.join(', ')})` },
  ).optional(),
  coerce: bool().default(false),
});
export type WorklistCheckConfig = Infer<typeof check>;

export const worklistSchema = object({
  /** The source is asked this often (and at once by `dicom-edge worklist refresh`). */
  intervalSeconds: seconds(DAY).default(60),
  /**
   * The copy is served while younger than this (its age: since the last complete
   * replication); older, a modality's query gets a failure status (C001).
   */
  maxAgeSeconds: seconds(30 * DAY, { upTo: '30 days' }).default(DAY),
  /** A replication whose source stays silent this long (no answer at all) is given up. */
  timeoutSeconds: seconds(3600).default(60),
  /** Items kept at most: a source listing more is cut there, and the log says so. */
  maxItems: int(1, 1_000_000).default(10_000),
  query: query.defaults(),
  checks: list(check).default([]),
});
export type WorklistConfig = Infer<typeof worklistSchema>;
