// PLACEHOLDER until the streaming transcoder lands (issue 3): no transcoding offered yet.
export function canTranscode(from: string, to: string): boolean {
  return from === to && false;
}

export async function* transcode(
  source: AsyncIterable<Buffer>,
  _from: string,
  _to: string,
): AsyncGenerator<Buffer> {
  yield* source;
}
