// The attributes of a worklist item the index keeps as text to match on (PS3.4 Table K.6-1,
// the Modality Worklist Information Model's matching keys), declared once: the tag each is
// read from, whether it sits at the item's top level or in its Scheduled Procedure Step
// Sequence, and its column in worklist_items (storage/schema/008-worklist.sql). The
// replication's extraction, the index's upserts and the SCP's matching all read this table.
import { Tag } from '../firmware/dicom/registry/tags';

export interface WorklistAttribute {
  readonly name: string;
  readonly tag: number;
  /** 'item': the identifier's top level; 'step': the Scheduled Procedure Step Sequence's item. */
  readonly level: 'item' | 'step';
  readonly column: string;
}

export const WORKLIST_ATTRIBUTES = [
  { name: 'patientName', tag: Tag.PatientName, level: 'item', column: 'patient_name' },
  { name: 'patientId', tag: Tag.PatientId, level: 'item', column: 'patient_id' },
  {
    name: 'issuerOfPatientId',
    tag: Tag.IssuerOfPatientId,
    level: 'item',
    column: 'issuer_of_patient_id',
  },
  {
    name: 'patientBirthDate',
    tag: Tag.PatientBirthDate,
    level: 'item',
    column: 'patient_birth_date',
  },
  { name: 'patientSex', tag: Tag.PatientSex, level: 'item', column: 'patient_sex' },
  {
    name: 'accessionNumber',
    tag: Tag.AccessionNumber,
    level: 'item',
    column: 'accession_number',
  },
  {
    name: 'studyInstanceUid',
    tag: Tag.StudyInstanceUid,
    level: 'item',
    column: 'study_instance_uid',
  },
  {
    name: 'requestedProcedureId',
    tag: Tag.RequestedProcedureId,
    level: 'item',
    column: 'requested_procedure_id',
  },
  {
    name: 'requestedProcedureDescription',
    tag: Tag.RequestedProcedureDescription,
    level: 'item',
    column: 'requested_procedure_description',
  },
  {
    name: 'referringPhysicianName',
    tag: Tag.ReferringPhysicianName,
    level: 'item',
    column: 'referring_physician_name',
  },
  { name: 'admissionId', tag: Tag.AdmissionId, level: 'item', column: 'admission_id' },
  {
    name: 'scheduledStationAeTitle',
    tag: Tag.ScheduledStationAeTitle,
    level: 'step',
    column: 'scheduled_station_ae_title',
  },
  {
    name: 'scheduledStationName',
    tag: Tag.ScheduledStationName,
    level: 'step',
    column: 'scheduled_station_name',
  },
  {
    name: 'spsStartDate',
    tag: Tag.ScheduledProcedureStepStartDate,
    level: 'step',
    column: 'sps_start_date',
  },
  {
    name: 'spsStartTime',
    tag: Tag.ScheduledProcedureStepStartTime,
    level: 'step',
    column: 'sps_start_time',
  },
  { name: 'modality', tag: Tag.Modality, level: 'step', column: 'modality' },
  {
    name: 'scheduledPerformingPhysicianName',
    tag: Tag.ScheduledPerformingPhysicianName,
    level: 'step',
    column: 'scheduled_performing_physician_name',
  },
  { name: 'spsId', tag: Tag.ScheduledProcedureStepId, level: 'step', column: 'sps_id' },
  {
    name: 'spsDescription',
    tag: Tag.ScheduledProcedureStepDescription,
    level: 'step',
    column: 'sps_description',
  },
  {
    name: 'spsLocation',
    tag: Tag.ScheduledProcedureStepLocation,
    level: 'step',
    column: 'sps_location',
  },
  {
    name: 'spsStatus',
    tag: Tag.ScheduledProcedureStepStatus,
    level: 'step',
    column: 'sps_status',
  },
] as const satisfies readonly WorklistAttribute[];

export type WorklistAttributeName = (typeof WORKLIST_ATTRIBUTES)[number]['name'];

/** An item's values of these attributes, as text (multiple values joined by "\"). */
export type WorklistValues = Readonly<Record<WorklistAttributeName, string>>;
