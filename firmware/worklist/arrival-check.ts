// The check on arrival (issue 29, opt-in per rule, worklist.checks): an instance whose
// Accession Number or Study Instance UID names an item of the worklist copy but whose
// patient's name, ID or birth date differs from the item's was most likely typed by hand
// (IHE's "wrong worklist item" and demographic errors). It is logged and listed; where the
// rule says `coerce`, its forwarded copies carry the item's values (the elements decided
// here, put in by forward/ as each copy streams out). The cached original is never
// changed and stays retrievable as it came (promise 2: bytes change only where a rule the
// administrator chose says so).
import { worklistSource, type Config, type WorklistCheckConfig } from '../config/config';
import { transferSyntax } from '../dicom/registry/transfer-syntaxes';
import { wildcardMatch } from '../forward/routing';
import { log } from '../log';
import type { ArrivalCheck } from '../../storage/instance-store';
import type { InstanceRecord } from '../../storage/index';
import type { Difference, StoredWorklistItem, WorklistStore } from '../../storage/worklist';
import { coercedValues, type CoercionPlan } from './coerced-values';
import { normalizePersonName } from './mwl-matching';

/** The first rule whose criteria the instance meets, if any. */
function ruleFor(
  checks: readonly WorklistCheckConfig[],
  record: InstanceRecord,
): WorklistCheckConfig | undefined {
  const meets = (patterns: readonly string[] | undefined, value: string): boolean =>
    patterns === undefined || patterns.some((p) => wildcardMatch(p, value));
  return checks.find(
    (c) =>
      meets(c.when?.callingAe, record.callingAeTitle) &&
      meets(c.when?.modality, record.attributes.modality),
  );
}

/** Where the instance's patient differs from the item's (an attribute the item leaves empty is not). */
export function differences(record: InstanceRecord, item: StoredWorklistItem): Difference[] {
  const a = record.attributes;
  const v = item.values;
  const out: Difference[] = [];
  if (v.patientName && normalizePersonName(a.patientName) !== normalizePersonName(v.patientName))
    out.push({ attribute: 'PatientName', received: a.patientName, scheduled: v.patientName });
  if (v.patientId && a.patientId !== v.patientId)
    out.push({ attribute: 'PatientID', received: a.patientId, scheduled: v.patientId });
  if (v.patientBirthDate && a.patientBirthDate !== v.patientBirthDate)
    out.push({
      attribute: 'PatientBirthDate',
      received: a.patientBirthDate,
      scheduled: v.patientBirthDate,
    });
  return out;
}

function plan(
  rule: WorklistCheckConfig,
  record: InstanceRecord,
  found: Difference[],
  item: StoredWorklistItem,
): CoercionPlan | null {
  if (!rule.coerce) return null;
  if (transferSyntax(record.transferSyntaxUid)?.deflated)
    return { elements: [], note: 'not coerced: a deflated data set is forwarded as it came' };
  return coercedValues(found, item, record.specificCharacterSet);
}

export function worklistArrivalCheck(store: WorklistStore, config: () => Config): ArrivalCheck {
  return async (record) => {
    const c = config();
    if (!worklistSource(c)) return;
    const rule = ruleFor(c.worklist.checks, record);
    if (!rule) return;
    const match = await store.itemFor(record.attributes.accessionNumber, record.studyInstanceUid);
    if (!match) return;
    const found = differences(record, match.item);
    if (found.length === 0) {
      await store.clearMismatch(record.sopInstanceUid);
      return;
    }
    const coercion = plan(rule, record, found, match.item);
    await store.recordMismatch({
      sopInstanceUid: record.sopInstanceUid,
      studyInstanceUid: record.studyInstanceUid,
      accessionNumber: record.attributes.accessionNumber,
      callingAe: record.callingAeTitle,
      receivedAt: record.receivedAt,
      matchedBy: match.matchedBy,
      itemKey: match.item.key,
      differences: found,
      coercion: coercion ? coercion.elements : null,
      note: coercion?.note ?? null,
    });
    log.warn('patient differs from the worklist item', {
      peer: record.callingAeTitle,
      sop: record.sopInstanceUid,
      accession: record.attributes.accessionNumber || undefined,
      by: match.matchedBy,
      differs: found
        .map((d) => `${d.attribute} "${d.received}" (item "${d.scheduled}")`)
        .join(', '),
      coerced: coercion
        ? coercion.elements.length > 0
          ? 'in forwarded copies'
          : 'no'
        : 'no (the rule lists only)',
      ...(coercion?.note ? { note: coercion.note } : {}),
    });
  };
}
