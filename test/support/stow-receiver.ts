// A strict STOW-RS origin server for tests (PS3.18 §10.5), on 127.0.0.1: it parses each
// request's multipart/related body (RFC 2387) into its Part 10 parts, refuses the parts
// whose transfer syntax it does not take with Failure Reason 0xC122 (Referenced Transfer
// Syntax not supported), stores the rest, and answers with a Store Instances Response
// (PS3.4 Table CC.2.3-1) and the status PS3.18 §10.5.3 gives: 200 when all were stored,
// 202 when some, 409 when none. What Orthanc, accepting anything, cannot show.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';

/** PS3.18 §8.7.3: the syntaxes a web service shall not carry. */
export const NOT_FOR_WEB_SERVICES: readonly string[] = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.2'];
export const REFERENCED_TRANSFER_SYNTAX_NOT_SUPPORTED = 0xc122;

export interface ReceivedPart {
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  /** The part's bytes: the whole Part 10 file as sent. */
  readonly file: Buffer;
  readonly stored: boolean;
}

export interface StowReceiver {
  readonly url: string;
  /** Each request's parts, in the order they came. */
  readonly requests: ReceivedPart[][];
  /** The parts stored, by SOP Instance UID (the last one sent). */
  readonly stored: Map<string, ReceivedPart>;
  close(): Promise<void>;
}

/** The body's parts (RFC 2046 §5.1.1): what lies between "--boundary" delimiter lines. */
export function multipartParts(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new Error('no boundary delimiter in the body');
  for (;;) {
    const after = at + delimiter.length;
    if (body.toString('latin1', after, after + 2) === '--') return parts; // close delimiter
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`, 'latin1'), after);
    if (next < 0) throw new Error('the body ends without its close delimiter');
    const part = body.subarray(after + 2, next); // past the delimiter line's CRLF
    const headersEnd = part.indexOf('\r\n\r\n');
    if (headersEnd < 0) throw new Error('a part without a header section');
    const type = /^content-type:\s*([^\r\n;]+)/im.exec(part.toString('latin1', 0, headersEnd));
    if (type?.[1]?.trim().toLowerCase() !== 'application/dicom')
      throw new Error(`a part of type ${type?.[1] ?? '(none)'}`);
    parts.push(part.subarray(headersEnd + 4));
    at = next + 2;
  }
}

function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/related\s*;/i.test(contentType)) return undefined;
  if (!/;\s*type="?application\/dicom"?/i.test(contentType)) return undefined;
  return /;\s*boundary="?([^";]+)"?/i.exec(contentType)?.[1];
}

function sequenceItem(part: ReceivedPart): Record<string, unknown> {
  return {
    '00081150': { vr: 'UI', Value: [parsePart10Header(part.file).meta.mediaStorageSopClassUid] },
    '00081155': { vr: 'UI', Value: [part.sopInstanceUid] },
    ...(part.stored
      ? {}
      : { '00081197': { vr: 'US', Value: [REFERENCED_TRANSFER_SYNTAX_NOT_SUPPORTED] } }),
  };
}

/** The Store Instances Response of a request, and its HTTP status. */
function answer(parts: readonly ReceivedPart[]): { status: number; body: string } {
  const stored = parts.filter((p) => p.stored);
  const failed = parts.filter((p) => !p.stored);
  const body = JSON.stringify({
    ...(stored.length ? { '00081199': { vr: 'SQ', Value: stored.map(sequenceItem) } } : {}),
    ...(failed.length ? { '00081198': { vr: 'SQ', Value: failed.map(sequenceItem) } } : {}),
  });
  return { status: failed.length === 0 ? 200 : stored.length === 0 ? 409 : 202, body };
}

/** Starts a receiver that takes every transfer syntax but those `refuses` names. */
export async function startStowReceiver(
  refuses: (transferSyntaxUid: string) => boolean,
  port = 0,
): Promise<StowReceiver> {
  const requests: ReceivedPart[][] = [];
  const stored = new Map<string, ReceivedPart>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const boundary = boundaryOf(req.headers['content-type']);
      if (req.method !== 'POST' || !boundary) {
        res.writeHead(req.method === 'POST' ? 415 : 200).end();
        return;
      }
      let files: Buffer[];
      try {
        files = multipartParts(Buffer.concat(chunks), boundary);
      } catch (err) {
        res.writeHead(400).end((err as Error).message);
        return;
      }
      const parts = files.map((file): ReceivedPart => {
        const { meta } = parsePart10Header(file);
        const ts = meta.transferSyntaxUid;
        const part = {
          sopInstanceUid: meta.mediaStorageSopInstanceUid,
          transferSyntaxUid: ts,
          file,
          stored: !refuses(ts),
        };
        if (part.stored) stored.set(part.sopInstanceUid, part);
        return part;
      });
      requests.push(parts);
      const { status, body } = answer(parts);
      res.writeHead(status, { 'content-type': 'application/dicom+json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const listening = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${listening}/dicom-web`,
    requests,
    stored,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
