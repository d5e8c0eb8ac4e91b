// The body of a STOW-RS request (PS3.18 §10.5.1.2): multipart/related (RFC 2387) of type
// application/dicom, each part one Part 10 file exactly as cached (promise 2). Streamed
// part by part: never a whole instance, let alone a batch, in memory. Pure: the parts'
// bytes come from the caller.

/** 32 random hex digits: a data set holding the delimiter by chance is a 2^-128 event. */
export function newBoundary(random: () => Buffer): string {
  return `dicom-edge-${random().toString('hex')}`;
}

export function multipartContentType(boundary: string): string {
  return `multipart/related; type="application/dicom"; boundary=${boundary}`;
}

/** The whole body: each part's header, its bytes as they come, then the close delimiter. */
export async function* multipartBody(
  boundary: string,
  parts: Iterable<() => AsyncIterable<Buffer>>,
): AsyncGenerator<Buffer> {
  for (const part of parts) {
    yield Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1');
    yield* part();
    yield Buffer.from('\r\n', 'latin1');
  }
  yield Buffer.from(`--${boundary}--\r\n`, 'latin1');
}
