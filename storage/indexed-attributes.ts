// The attributes the index keeps from each instance, declared once: the tag each is read
// from, the table and column it is kept in, and its name — the name of the record's field
// and of the query column (query.ts). The scanner's list of wanted tags, the index's
// upserts and the C-FIND columns all come from this table; adding an attribute is one
// line here and one column in a schema file.
import { Tag } from '../firmware/dicom/registry/tags';

export type IndexTable = 'patients' | 'studies' | 'series' | 'instances';

export interface IndexedAttribute {
  readonly name: string;
  readonly tag: number;
  readonly table: IndexTable;
  readonly column: string;
}

export const INDEXED_ATTRIBUTES = [
  { name: 'patientId', tag: Tag.PatientId, table: 'patients', column: 'patient_id' },
  { name: 'patientName', tag: Tag.PatientName, table: 'patients', column: 'patient_name' },
  {
    name: 'patientBirthDate',
    tag: Tag.PatientBirthDate,
    table: 'patients',
    column: 'patient_birth_date',
  },
  { name: 'patientSex', tag: Tag.PatientSex, table: 'patients', column: 'patient_sex' },
  { name: 'studyDate', tag: Tag.StudyDate, table: 'studies', column: 'study_date' },
  { name: 'studyTime', tag: Tag.StudyTime, table: 'studies', column: 'study_time' },
  {
    name: 'accessionNumber',
    tag: Tag.AccessionNumber,
    table: 'studies',
    column: 'accession_number',
  },
  { name: 'studyId', tag: Tag.StudyId, table: 'studies', column: 'study_id' },
  {
    name: 'studyDescription',
    tag: Tag.StudyDescription,
    table: 'studies',
    column: 'study_description',
  },
  {
    name: 'referringPhysicianName',
    tag: Tag.ReferringPhysicianName,
    table: 'studies',
    column: 'referring_physician_name',
  },
  { name: 'modality', tag: Tag.Modality, table: 'series', column: 'modality' },
  { name: 'seriesNumber', tag: Tag.SeriesNumber, table: 'series', column: 'series_number' },
  {
    name: 'seriesDescription',
    tag: Tag.SeriesDescription,
    table: 'series',
    column: 'series_description',
  },
  { name: 'seriesDate', tag: Tag.SeriesDate, table: 'series', column: 'series_date' },
  { name: 'seriesTime', tag: Tag.SeriesTime, table: 'series', column: 'series_time' },
  {
    name: 'bodyPartExamined',
    tag: Tag.BodyPartExamined,
    table: 'series',
    column: 'body_part_examined',
  },
  {
    name: 'instanceNumber',
    tag: Tag.InstanceNumber,
    table: 'instances',
    column: 'instance_number',
  },
  {
    name: 'numberOfFrames',
    tag: Tag.NumberOfFrames,
    table: 'instances',
    column: 'number_of_frames',
  },
] as const satisfies readonly IndexedAttribute[];

export type IndexedAttributeName = (typeof INDEXED_ATTRIBUTES)[number]['name'];

/** An instance's values of the indexed attributes, as text. */
export type IndexedValues = Readonly<Record<IndexedAttributeName, string>>;

/** The attributes kept in one table. */
export function attributesOf(
  table: IndexTable,
): ReadonlyArray<(typeof INDEXED_ATTRIBUTES)[number]> {
  return INDEXED_ATTRIBUTES.filter((a) => a.table === table);
}
