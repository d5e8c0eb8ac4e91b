// The Query/Retrieve attributes the box answers from its index (PS3.4 C.6.1 Patient Root
// and C.6.2 Study Root, Tables C.6-1 to C.6-4 and C.6-5 to C.6-7), with the index column
// each maps to and how it is matched (C.2.2.2).
import type { ColumnName, QueryLevel } from '../../../storage/query';

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
  A(0x00100010, 'PatientName', 'PN', 'PATIENT', 'patientName', 'pn'),
  A(0x00100020, 'PatientID', 'LO', 'PATIENT', 'patientId', 'text', true),
  A(0x00100030, 'PatientBirthDate', 'DA', 'PATIENT', 'patientBirthDate', 'date'),
  A(0x00100040, 'PatientSex', 'CS', 'PATIENT', 'patientSex', 'text'),
  A(0x00201200, 'NumberOfPatientRelatedStudies', 'IS', 'PATIENT', 'patientStudies', 'none'),
  A(0x00201202, 'NumberOfPatientRelatedSeries', 'IS', 'PATIENT', 'patientSeries', 'none'),
  A(0x00201204, 'NumberOfPatientRelatedInstances', 'IS', 'PATIENT', 'patientInstances', 'none'),
  A(0x0020000d, 'StudyInstanceUID', 'UI', 'STUDY', 'studyInstanceUid', 'uid', true),
  A(0x00080020, 'StudyDate', 'DA', 'STUDY', 'studyDate', 'date'),
  A(0x00080030, 'StudyTime', 'TM', 'STUDY', 'studyTime', 'time'),
  A(0x00080050, 'AccessionNumber', 'SH', 'STUDY', 'accessionNumber', 'text'),
  A(0x00200010, 'StudyID', 'SH', 'STUDY', 'studyId', 'text'),
  A(0x00081030, 'StudyDescription', 'LO', 'STUDY', 'studyDescription', 'text'),
  A(0x00080090, 'ReferringPhysicianName', 'PN', 'STUDY', 'referringPhysicianName', 'pn'),
  A(0x00080061, 'ModalitiesInStudy', 'CS', 'STUDY', 'modalitiesInStudy', 'modalities'),
  A(0x00080062, 'SOPClassesInStudy', 'UI', 'STUDY', 'sopClassesInStudy', 'none'),
  A(0x00201206, 'NumberOfStudyRelatedSeries', 'IS', 'STUDY', 'studySeries', 'none'),
  A(0x00201208, 'NumberOfStudyRelatedInstances', 'IS', 'STUDY', 'studyInstances', 'none'),
  A(0x0020000e, 'SeriesInstanceUID', 'UI', 'SERIES', 'seriesInstanceUid', 'uid', true),
  A(0x00080060, 'Modality', 'CS', 'SERIES', 'modality', 'text'),
  A(0x00200011, 'SeriesNumber', 'IS', 'SERIES', 'seriesNumber', 'text'),
  A(0x0008103e, 'SeriesDescription', 'LO', 'SERIES', 'seriesDescription', 'text'),
  A(0x00080021, 'SeriesDate', 'DA', 'SERIES', 'seriesDate', 'date'),
  A(0x00080031, 'SeriesTime', 'TM', 'SERIES', 'seriesTime', 'time'),
  A(0x00180015, 'BodyPartExamined', 'CS', 'SERIES', 'bodyPartExamined', 'text'),
  A(0x00201209, 'NumberOfSeriesRelatedInstances', 'IS', 'SERIES', 'seriesInstances', 'none'),
  A(0x00080018, 'SOPInstanceUID', 'UI', 'IMAGE', 'sopInstanceUid', 'uid', true),
  A(0x00080016, 'SOPClassUID', 'UI', 'IMAGE', 'sopClassUid', 'uid'),
  A(0x00200013, 'InstanceNumber', 'IS', 'IMAGE', 'instanceNumber', 'text'),
  A(0x00280008, 'NumberOfFrames', 'IS', 'IMAGE', 'numberOfFrames', 'text'),
];

export const BY_TAG: ReadonlyMap<number, QrAttribute> = new Map(
  QR_ATTRIBUTES.map((a) => [a.tag, a]),
);

export const QUERY_RETRIEVE_LEVEL = 0x00080052;
export const RETRIEVE_AE_TITLE = 0x00080054;
export const SPECIFIC_CHARACTER_SET = 0x00080005;
export const FAILED_SOP_INSTANCE_UID_LIST = 0x00080058;

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
