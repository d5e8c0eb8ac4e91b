// What the Q/R handlers share: reading a (small) identifier, encoding response
// identifiers in the context's transfer syntax.
import type { AcceptedContext } from '../../dicom/acse';
import { parseDataset } from '../../dicom/dataset/dataset-parser';
import type { Encoding } from '../../dicom/dataset/dataset-scanner';
import { encodeDataset, type Element } from '../../dicom/dataset/dataset-writer';
import { DataSetTooLargeError, readSmallDataSet } from '../../dicom/dimse/dimse-channel';
import { DatasetParseError } from '../../dicom/errors';
import { transferSyntax } from '../../dicom/registry/transfer-syntaxes';
import { Status } from '../../dicom/dimse/status';
import { QueryError } from './identifier';

export function encodingOf(context: AcceptedContext): Encoding {
  const ts = transferSyntax(context.transferSyntax);
  if (!ts || ts.deflated || ts.encapsulated)
    throw new QueryError(Status.UnableToProcess, 'unsupported transfer syntax for an identifier');
  return { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
}

export async function readIdentifier(
  dataset: AsyncIterable<Buffer> | null,
  enc: Encoding,
): Promise<Element[]> {
  if (!dataset)
    throw new QueryError(
      Status.IdentifierDoesNotMatchSopClass,
      'the request carries no identifier',
    );
  try {
    return parseDataset(await readSmallDataSet(dataset), enc);
  } catch (err) {
    if (err instanceof DataSetTooLargeError)
      throw new QueryError(Status.UnableToProcess, `identifier: ${err.message}`);
    if (err instanceof DatasetParseError)
      throw new QueryError(Status.UnableToProcess, `identifier does not parse: ${err.message}`);
    throw err;
  }
}

export function encodeIdentifier(elements: Element[], enc: Encoding): Buffer {
  return encodeDataset(
    [...elements].sort((a, b) => a.tag - b.tag),
    enc,
  );
}
