// The Modality Worklist Information Model's attributes (PS3.4 Table K.6-1) as the box uses
// them: those the replication asks the source for (return keys, so the copy holds them),
// and how each attribute the copy keeps as text is matched (PS3.4 C.2.2.2).
import type { Element } from '../dicom/dataset/dataset-writer';
import { lookupTag } from '../dicom/registry/dictionary';
import { Tag } from '../dicom/registry/tags';
import type { WorklistAttributeName } from '../../storage/worklist-attributes';

/** The identifier's own top-level attributes the copy holds (Table K.6-1). */
export const ITEM_KEYS: readonly number[] = [
  Tag.SpecificCharacterSet,
  Tag.AccessionNumber,
  Tag.ReferringPhysicianName,
  Tag.ReferencedStudySequence,
  Tag.ReferencedPatientSequence,
  Tag.PatientName,
  Tag.PatientId,
  Tag.IssuerOfPatientId,
  Tag.PatientBirthDate,
  Tag.PatientSex,
  Tag.PatientSize,
  Tag.PatientWeight,
  Tag.MedicalAlerts,
  Tag.Allergies,
  Tag.PregnancyStatus,
  Tag.StudyInstanceUid,
  Tag.RequestingPhysician,
  Tag.RequestedProcedureDescription,
  Tag.RequestedProcedureCodeSequence,
  Tag.AdmissionId,
  Tag.CurrentPatientLocation,
  Tag.PatientState,
  Tag.ScheduledProcedureStepSequence,
  Tag.RequestedProcedureId,
  Tag.ReasonForTheRequestedProcedure,
  Tag.RequestedProcedurePriority,
  Tag.PatientTransportArrangements,
];

/** The Scheduled Procedure Step Sequence item's attributes the copy holds. */
export const STEP_KEYS: readonly number[] = [
  Tag.Modality,
  Tag.RequestedContrastAgent,
  Tag.ScheduledStationAeTitle,
  Tag.ScheduledProcedureStepStartDate,
  Tag.ScheduledProcedureStepStartTime,
  Tag.ScheduledPerformingPhysicianName,
  Tag.ScheduledProcedureStepDescription,
  Tag.ScheduledProtocolCodeSequence,
  Tag.ScheduledProcedureStepId,
  Tag.ScheduledStationName,
  Tag.ScheduledProcedureStepLocation,
  Tag.PreMedication,
  Tag.ScheduledProcedureStepStatus,
  Tag.CommentsOnTheScheduledProcedureStep,
];

const ITEM_KEY_SET: ReadonlySet<number> = new Set(ITEM_KEYS);
const STEP_KEY_SET: ReadonlySet<number> = new Set(STEP_KEYS);

/** Whether the copy holds the attribute (at the top level, or in the step's item). */
export function held(tag: number, level: 'item' | 'step'): boolean {
  return (level === 'item' ? ITEM_KEY_SET : STEP_KEY_SET).has(tag);
}

/** How an attribute of the copy is matched (PS3.4 C.2.2.2), by its VR. */
export type Matching = 'text' | 'pn' | 'uid' | 'date' | 'time';

export const MATCHING: Readonly<Record<WorklistAttributeName, Matching>> = {
  patientName: 'pn',
  patientId: 'text',
  issuerOfPatientId: 'text',
  patientBirthDate: 'date',
  patientSex: 'text',
  accessionNumber: 'text',
  studyInstanceUid: 'uid',
  requestedProcedureId: 'text',
  requestedProcedureDescription: 'text',
  referringPhysicianName: 'pn',
  admissionId: 'text',
  scheduledStationAeTitle: 'text',
  scheduledStationName: 'text',
  spsStartDate: 'date',
  spsStartTime: 'time',
  modality: 'text',
  scheduledPerformingPhysicianName: 'pn',
  spsId: 'text',
  spsDescription: 'text',
  spsLocation: 'text',
  spsStatus: 'text',
};

/** A return key: an empty value of the attribute's VR, or an empty sequence. */
function emptyKey(tag: number): Element {
  const vr = lookupTag(tag)?.vr ?? 'LO';
  return vr === 'SQ' ? { tag, vr, value: [] } : { tag, vr, value: '' };
}

/** What the replication matches on: one station, one modality, a date range; any may be absent. */
export interface ReplicationKeys {
  readonly stationAeTitle?: string;
  readonly modality?: string;
  /** "YYYYMMDD-YYYYMMDD". */
  readonly dates: string;
}

/**
 * The replication's identifier: every attribute the copy holds as a return key, and the
 * step's station, modality and dates as matching keys (K.6.1.2.2: a single item).
 */
export function replicationIdentifier(keys: ReplicationKeys): Element[] {
  const step: Element[] = STEP_KEYS.map((tag) => {
    if (tag === Tag.ScheduledStationAeTitle && keys.stationAeTitle)
      return { tag, vr: 'AE', value: keys.stationAeTitle };
    if (tag === Tag.Modality && keys.modality) return { tag, vr: 'CS', value: keys.modality };
    if (tag === Tag.ScheduledProcedureStepStartDate) return { tag, vr: 'DA', value: keys.dates };
    return emptyKey(tag);
  });
  return ITEM_KEYS.map((tag) =>
    tag === Tag.ScheduledProcedureStepSequence
      ? { tag, vr: 'SQ', value: [step.sort((a, b) => a.tag - b.tag)] }
      : emptyKey(tag),
  ).sort((a, b) => a.tag - b.tag);
}
