// The Query/Retrieve attributes the box answers from its index (PS3.4 C.6.1 Patient Root
// and C.6.2 Study Root, Tables C.6-1 to C.6-4 and C.6-5 to C.6-7), with the index column
// each maps to and how it is matched (C.2.2.2).
import type { ColumnName, QueryLevel } from '../../../storage/query';
import { Tag } from '../../dicom/registry/tags';

export type Matching = 'text' | 'pn' | 'uid' | 'date' | 'time' | 'modalities' | 'none';

export interface QrAttribute {
  readonly tag: number;
  readonly keyword: string;
  readonly vr: string;
  readonly level: QueryLevel;
  readonly column: ColumnName;
  readonly matching: Matching;
  /** The level's unique key (C.4.1.2.2.1). */
  readonly unique?: boolean;
}

const A = (
  tag: number,
  keyword: string,
  vr: string,
  level: QueryLevel,
  column: ColumnName,
  matching: Matching,
  unique = false,
): QrAttribute => ({ tag, keyword, vr, level, column, matching, ...(unique ? { unique } : {}) });

export const QR_ATTRIBUTES: readonly QrAttribute[] = [
  A(Tag.PatientName, 'PatientName', 'PN', 'PATIENT', 'patientName', 'pn'),
  A(Tag.PatientId, 'PatientID', 'LO', 'PATIENT', 'patientId', 'text', true),
  A(Tag.PatientBirthDate, 'PatientBirthDate', 'DA', 'PATIENT', 'patientBirthDate', 'date'),
  A(Tag.PatientSex, 'PatientSex', 'CS', 'PATIENT', 'patientSex', 'text'),
  A(
    Tag.NumberOfPatientRelatedStudies,
    'NumberOfPatientRelatedStudies',
    'IS',
    'PATIENT',
    'patientStudies',
    'none',
  ),
  A(
    Tag.NumberOfPatientRelatedSeries,
    'NumberOfPatientRelatedSeries',
    'IS',
    'PATIENT',
    'patientSeries',
    'none',
  ),
  A(
    Tag.NumberOfPatientRelatedInstances,
    'NumberOfPatientRelatedInstances',
    'IS',
    'PATIENT',
    'patientInstances',
    'none',
  ),
  A(Tag.StudyInstanceUid, 'StudyInstanceUID', 'UI', 'STUDY', 'studyInstanceUid', 'uid', true),
  A(Tag.StudyDate, 'StudyDate', 'DA', 'STUDY', 'studyDate', 'date'),
  A(Tag.StudyTime, 'StudyTime', 'TM', 'STUDY', 'studyTime', 'time'),
  A(Tag.AccessionNumber, 'AccessionNumber', 'SH', 'STUDY', 'accessionNumber', 'text'),
  A(Tag.StudyId, 'StudyID', 'SH', 'STUDY', 'studyId', 'text'),
  A(Tag.StudyDescription, 'StudyDescription', 'LO', 'STUDY', 'studyDescription', 'text'),
  A(
    Tag.ReferringPhysicianName,
    'ReferringPhysicianName',
    'PN',
    'STUDY',
    'referringPhysicianName',
    'pn',
  ),
  A(Tag.ModalitiesInStudy, 'ModalitiesInStudy', 'CS', 'STUDY', 'modalitiesInStudy', 'modalities'),
  A(Tag.SopClassesInStudy, 'SOPClassesInStudy', 'UI', 'STUDY', 'sopClassesInStudy', 'none'),
  A(
    Tag.NumberOfStudyRelatedSeries,
    'NumberOfStudyRelatedSeries',
    'IS',
    'STUDY',
    'studySeries',
    'none',
  ),
  A(
    Tag.NumberOfStudyRelatedInstances,
    'NumberOfStudyRelatedInstances',
    'IS',
    'STUDY',
    'studyInstances',
    'none',
  ),
  A(Tag.SeriesInstanceUid, 'SeriesInstanceUID', 'UI', 'SERIES', 'seriesInstanceUid', 'uid', true),
  A(Tag.Modality, 'Modality', 'CS', 'SERIES', 'modality', 'text'),
  A(Tag.SeriesNumber, 'SeriesNumber', 'IS', 'SERIES', 'seriesNumber', 'text'),
  A(Tag.SeriesDescription, 'SeriesDescription', 'LO', 'SERIES', 'seriesDescription', 'text'),
  A(Tag.SeriesDate, 'SeriesDate', 'DA', 'SERIES', 'seriesDate', 'date'),
  A(Tag.SeriesTime, 'SeriesTime', 'TM', 'SERIES', 'seriesTime', 'time'),
  A(Tag.BodyPartExamined, 'BodyPartExamined', 'CS', 'SERIES', 'bodyPartExamined', 'text'),
  A(
    Tag.NumberOfSeriesRelatedInstances,
    'NumberOfSeriesRelatedInstances',
    'IS',
    'SERIES',
    'seriesInstances',
    'none',
  ),
  A(Tag.SopInstanceUid, 'SOPInstanceUID', 'UI', 'IMAGE', 'sopInstanceUid', 'uid', true),
  A(Tag.SopClassUid, 'SOPClassUID', 'UI', 'IMAGE', 'sopClassUid', 'uid'),
  A(Tag.InstanceNumber, 'InstanceNumber', 'IS', 'IMAGE', 'instanceNumber', 'text'),
  A(Tag.NumberOfFrames, 'NumberOfFrames', 'IS', 'IMAGE', 'numberOfFrames', 'text'),
];

export const BY_TAG: ReadonlyMap<number, QrAttribute> = new Map(
  QR_ATTRIBUTES.map((a) => [a.tag, a]),
);

/** The information models (PS3.4 C.6) by SOP class, and the operations they carry. */
export const QR_SOP_CLASSES = {
  patientRootFind: '1.2.840.10008.5.1.4.1.2.1.1',
  patientRootMove: '1.2.840.10008.5.1.4.1.2.1.2',
  patientRootGet: '1.2.840.10008.5.1.4.1.2.1.3',
  studyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  studyRootMove: '1.2.840.10008.5.1.4.1.2.2.2',
  studyRootGet: '1.2.840.10008.5.1.4.1.2.2.3',
} as const;

export type InformationModel = 'patient' | 'study';

export function modelOf(sopClassUid: string): InformationModel | undefined {
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.2.1.')) return 'patient';
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.2.2.')) return 'study';
  return undefined;
}

/**
 * The level an attribute belongs to in a model: in Study Root the patient attributes are
 * part of the study level (C.6.2.1).
 */
export function levelIn(model: InformationModel, attribute: QrAttribute): QueryLevel {
  return model === 'study' && attribute.level === 'PATIENT' ? 'STUDY' : attribute.level;
}
