// The attributes the index keeps from each instance, declared once: the tag each is read
// from, the table and column it is kept in, and its name — the name of the record's field
// and of the query column (query.ts). The scanner's list of wanted tags, the index's
// upserts and the C-FIND columns all come from this table; adding an attribute is one
// line here and one column in a schema file.
export type IndexTable = 'patients' | 'studies' | 'series' | 'instances';

export interface IndexedAttribute {
  readonly name: string;
  readonly tag: number;
  readonly table: IndexTable;
  readonly column: string;
}

export const INDEXED_ATTRIBUTES = [
  { name: 'patientId', tag: 0x00100020, table: 'patients', column: 'patient_id' },
  { name: 'patientName', tag: 0x00100010, table: 'patients', column: 'patient_name' },
  { name: 'patientBirthDate', tag: 0x00100030, table: 'patients', column: 'patient_birth_date' },
  { name: 'patientSex', tag: 0x00100040, table: 'patients', column: 'patient_sex' },
  { name: 'studyDate', tag: 0x00080020, table: 'studies', column: 'study_date' },
  { name: 'studyTime', tag: 0x00080030, table: 'studies', column: 'study_time' },
  { name: 'accessionNumber', tag: 0x00080050, table: 'studies', column: 'accession_number' },
  { name: 'studyId', tag: 0x00200010, table: 'studies', column: 'study_id' },
  { name: 'studyDescription', tag: 0x00081030, table: 'studies', column: 'study_description' },
  {
    name: 'referringPhysicianName',
    tag: 0x00080090,
    table: 'studies',
    column: 'referring_physician_name',
  },
  { name: 'modality', tag: 0x00080060, table: 'series', column: 'modality' },
  { name: 'seriesNumber', tag: 0x00200011, table: 'series', column: 'series_number' },
  { name: 'seriesDescription', tag: 0x0008103e, table: 'series', column: 'series_description' },
  { name: 'seriesDate', tag: 0x00080021, table: 'series', column: 'series_date' },
  { name: 'seriesTime', tag: 0x00080031, table: 'series', column: 'series_time' },
  { name: 'bodyPartExamined', tag: 0x00180015, table: 'series', column: 'body_part_examined' },
  { name: 'instanceNumber', tag: 0x00200013, table: 'instances', column: 'instance_number' },
  { name: 'numberOfFrames', tag: 0x00280008, table: 'instances', column: 'number_of_frames' },
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
