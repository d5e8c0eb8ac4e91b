// A cached instance as forwarded where a worklist rule coerced it (firmware/worklist/
// arrival-check.ts): the data set as it goes out (verbatim, transcoded or compressed) with
// the coerced elements in place of its own, every other byte as it would have gone, and
// one log line that says so. The cached file is never changed: a retrieve from the box
// still gets what the modality sent.
import type { Cache } from '../../storage/cache';
import { openCacheFile, readRange } from '../../storage/cache-file';
import { replaceTopLevelElements, type ElementValue } from '../dicom/dataset/element-replacement';
import { formatTag } from '../dicom/dataset/element-header';
import { transferSyntax } from '../dicom/registry/transfer-syntaxes';
import { log } from '../log';
import type { InstanceFile } from './transcoded-instance';

/** The data set `data`, in `transferSyntaxUid` as it goes out, with `values` in place. */
export function coercedDataset(
  data: AsyncIterable<Buffer>,
  instance: Pick<InstanceFile, 'sopInstanceUid'>,
  transferSyntaxUid: string,
  values: readonly ElementValue[],
  destination: string,
): AsyncIterable<Buffer> {
  const ts = transferSyntax(transferSyntaxUid);
  log.info('coerced to the worklist item for destination', {
    dest: destination,
    sop: instance.sopInstanceUid,
    elements: values.map((v) => formatTag(v.tag)).join(','),
  });
  return replaceTopLevelElements(
    data,
    { explicitVr: ts?.explicitVr ?? true, littleEndian: ts?.littleEndian ?? true },
    values,
  );
}

/** The cached Part 10 file with its data set coerced (STOW-RS): the meta information as cached. */
export async function* coercedFile(
  cache: Cache,
  instance: InstanceFile,
  values: readonly ElementValue[],
  destination: string,
): AsyncGenerator<Buffer> {
  const file = await openCacheFile(cache, instance.path);
  try {
    yield* readRange(file, 0, instance.datasetOffset);
    const data = readRange(file, instance.datasetOffset, instance.size);
    yield* coercedDataset(data, instance, instance.transferSyntaxUid, values, destination);
  } finally {
    await file.close();
  }
}
