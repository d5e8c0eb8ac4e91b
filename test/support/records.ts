// Index rows written straight into an Index, without files or a network: for tests of
// the index itself and for benchmarks that need a large cache quickly.
import type { InstanceRecord } from '../../storage/index';
import { INDEXED_ATTRIBUTES, type IndexedValues } from '../../storage/indexed-attributes';

export interface RecordUids {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

/** A CT instance's row with empty descriptive attributes; `overrides` set the rest. */
export function instanceRecord(
  uids: RecordUids,
  overrides: Partial<Omit<InstanceRecord, 'attributes'>> & {
    readonly attributes?: Partial<IndexedValues>;
  } = {},
): InstanceRecord {
  const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = uids;
  return {
    sopInstanceUid,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    studyInstanceUid,
    seriesInstanceUid,
    path: `cache/${studyInstanceUid}/${seriesInstanceUid}/${sopInstanceUid}.dcm`,
    size: 1000,
    datasetOffset: 300,
    receivedAt: new Date().toISOString(),
    callingAeTitle: 'MOD',
    specificCharacterSet: '',
    digest: '',
    forwardTo: [],
    ...overrides,
    // After the overrides: the attributes they name are merged, not all replaced.
    attributes: {
      ...(Object.fromEntries(INDEXED_ATTRIBUTES.map((a) => [a.name, ''])) as IndexedValues),
      patientId: 'P',
      patientName: 'N',
      modality: 'CT',
      ...overrides.attributes,
    },
  };
}
