// A test hook for crash tests: started with DICOM_EDGE_FAULT_POINT=<name>, the process
// stops at that step of its work and says so on stderr, so that a test can kill -9 it at
// exactly that instant. Unset (always, outside tests), each point costs one comparison.
const armed = process.env.DICOM_EDGE_FAULT_POINT;

/**
 * The steps a test may stop at: after a received copy's file is durable, after its index
 * commit; after an eviction removed a study's rows, before its files are deleted.
 */
export type FaultPointName = 'stored-file' | 'indexed' | 'evicted-rows';

export async function faultPoint(name: FaultPointName): Promise<void> {
  if (armed !== name) return;
  process.stderr.write(`fault point ${name} reached\n`);
  await new Promise<never>(() => undefined); // until the test kills the process
}
