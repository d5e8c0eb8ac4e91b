// What the Q/R handlers share: reading a (small) identifier, encoding response
// identifiers in the context's transfer syntax.
import type { AcceptedContext } from '../../dicom/association';
import { parseDataset } from '../../dicom/dataset/dataset-parser';
import type { Encoding } from '../../dicom/dataset/dataset-scanner';
import { encodeDataset, type Element } from '../../dicom/dataset/dataset-writer';
import { DatasetParseError } from '../../dicom/errors';
import { transferSyntax } from '../../dicom/registry/transfer-syntaxes';
import { Status } from '../../dicom/dimse/status';
import { QueryError } from './identifier';

/** Identifiers are small; anything bigger is refused rather than buffered. */
const MAX_IDENTIFIER_BYTES = 1 << 20;

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
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of dataset) {
    size += chunk.length;
    if (size <= MAX_IDENTIFIER_BYTES) parts.push(chunk);
  }
  if (size > MAX_IDENTIFIER_BYTES)
    throw new QueryError(
      Status.UnableToProcess,
      `identifier larger than ${MAX_IDENTIFIER_BYTES} bytes`,
    );
  try {
    return parseDataset(Buffer.concat(parts), enc);
  } catch (err) {
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
