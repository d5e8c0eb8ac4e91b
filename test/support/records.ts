// Index rows written straight into an Index, without files or a network: for tests of
// the index itself and for benchmarks that need a large cache quickly.
import type { InstanceRecord } from '../../storage/index';

export interface RecordUids {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

/** A CT instance's row with empty descriptive attributes; `overrides` set the rest. */
export function instanceRecord(
  uids: RecordUids,
  overrides: Partial<InstanceRecord> = {},
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
    patient: { id: 'P', name: 'N', birthDate: '', sex: '' },
    study: {
      date: '',
      time: '',
      accessionNumber: '',
      studyId: '',
      description: '',
      referringPhysicianName: '',
    },
    series: {
      modality: 'CT',
      number: '',
      description: '',
      date: '',
      time: '',
      bodyPartExamined: '',
    },
    instanceNumber: '',
    numberOfFrames: '',
    specificCharacterSet: '',
    digest: '',
    forwardTo: [],
    ...overrides,
  };
}
