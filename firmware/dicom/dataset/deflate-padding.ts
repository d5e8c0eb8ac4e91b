// PS3.5 §A.5: "If the Deflate algorithm produces an odd number of bytes then a single
// trailing NULL byte shall be added after the last byte of the deflated bit stream."
// The padding belongs to the encoded data set. The box stores what it was sent, so a
// deflated data set from a sender that did not pad is kept as it came; on the way out it
// gets the one byte the standard requires (DCMTK aborts on an odd data set fragment). The
// inflated content, and so the data set, is unchanged: the stream's end marker comes
// before the pad.
import { transferSyntax } from '../registry/transfer-syntaxes';

/** Passes a data set through, adding the NULL pad byte when it is deflated and odd. */
export async function* withDeflatePadding(
  data: AsyncIterable<Buffer>,
  transferSyntaxUid: string,
): AsyncGenerator<Buffer> {
  let length = 0;
  for await (const chunk of data) {
    length += chunk.length;
    yield chunk;
  }
  if (length % 2 === 1 && transferSyntax(transferSyntaxUid)?.deflated) yield Buffer.alloc(1);
}
