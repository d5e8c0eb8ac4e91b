// Storage as SCU: C-STORE of Part 10 files, each streamed from disk into PDVs (the data
// set bytes are sent verbatim, never parsed or held whole). One presentation context is
// proposed per (SOP class, transfer syntax) pair found in the files.
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { EstablishedAssociation } from '../dicom/association';
import { withDeflatePadding } from '../dicom/dataset/deflate-padding';
import { parsePart10Header, PART10_HEAD_BYTES } from '../dicom/dataset/part10';
import { CommandField } from '../dicom/dimse/command-field';
import { AssociationClosedError } from '../dicom/errors';
import { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { PresentationContextResult, type PresentationContextRq } from '../dicom/pdu';
import { openAssociation, type PeerAddress } from './open-association';
import { FILE_READ_CHUNK } from '../../storage/cache-file';

export interface StoreFile {
  readonly path: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly datasetOffset: number;
}

export interface StoreResult {
  readonly path: string;
  readonly sopInstanceUid?: string;
  /** DIMSE status, or undefined when the file never got as far as a C-STORE-RSP. */
  readonly status?: number;
  readonly error?: string;
  /** Why it was not sent, as thrown: its type tells a file that is not DICOM from a peer
   *  that cannot be reached (the command line's exit code, cli/failure.ts). */
  readonly cause?: Error;
}

/** Reads the File Meta Information of one file (only its head). */
export async function readStoreFile(file: string): Promise<StoreFile> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(PART10_HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const { meta, datasetOffset } = parsePart10Header(head.subarray(0, bytesRead));
    return {
      path: file,
      sopClassUid: meta.mediaStorageSopClassUid,
      sopInstanceUid: meta.mediaStorageSopInstanceUid,
      transferSyntaxUid: meta.transferSyntaxUid,
      datasetOffset,
    };
  } finally {
    await handle.close();
  }
}

/** Expands directories (recursively) into the files they hold, in a stable order. */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await fs.stat(p);
    if (st.isDirectory()) {
      const entries = (await fs.readdir(p)).sort();
      out.push(...(await expandPaths(entries.map((e) => path.join(p, e)))));
    } else out.push(p);
  }
  return out;
}

const MAX_CONTEXTS = 128; // odd IDs 1..255 (PS3.8 §9.3.2.2)

/**
 * Sends the files, reporting each result as it comes. Files that cannot be read are
 * reported and skipped; the rest go over as few associations as the context limit allows.
 */
export async function storeFiles(
  peer: PeerAddress,
  files: readonly string[],
  onResult: (r: StoreResult) => void,
): Promise<StoreResult[]> {
  const results: StoreResult[] = [];
  const report = (r: StoreResult): void => {
    results.push(r);
    onResult(r);
  };
  const readable: StoreFile[] = [];
  for (const f of files) {
    try {
      readable.push(await readStoreFile(f));
    } catch (err) {
      report({ path: f, error: (err as Error).message, cause: err as Error });
    }
  }
  const key = (f: StoreFile): string => `${f.sopClassUid}|${f.transferSyntaxUid}`;
  // Batches of files whose pairs fit in one association's context list.
  const batches: StoreFile[][] = [];
  let pairs = new Set<string>();
  let batch: StoreFile[] = [];
  for (const f of readable) {
    if (!pairs.has(key(f)) && pairs.size === MAX_CONTEXTS) {
      batches.push(batch);
      batch = [];
      pairs = new Set();
    }
    pairs.add(key(f));
    batch.push(f);
  }
  if (batch.length) batches.push(batch);

  for (const b of batches) await storeBatch(peer, b, report);
  return results;
}

async function storeBatch(
  peer: PeerAddress,
  files: StoreFile[],
  report: (r: StoreResult) => void,
): Promise<void> {
  const contexts: PresentationContextRq[] = [];
  const contextOf = new Map<string, number>();
  for (const f of files) {
    const k = `${f.sopClassUid}|${f.transferSyntaxUid}`;
    if (contextOf.has(k)) continue;
    const id = contexts.length * 2 + 1;
    contextOf.set(k, id);
    contexts.push({ id, abstractSyntax: f.sopClassUid, transferSyntaxes: [f.transferSyntaxUid] });
  }
  let association: EstablishedAssociation;
  try {
    association = await openAssociation(peer, contexts);
  } catch (err) {
    for (const f of files)
      report({
        path: f.path,
        sopInstanceUid: f.sopInstanceUid,
        error: (err as Error).message,
        cause: err as Error,
      });
    return;
  }
  const requestor = new DimseRequestor(association);
  const accepted = new Set(
    association.info.ac.presentationContexts
      .filter((pc) => pc.result === PresentationContextResult.Acceptance)
      .map((pc) => pc.id),
  );
  try {
    for (const f of files) {
      const contextId = contextOf.get(`${f.sopClassUid}|${f.transferSyntaxUid}`)!;
      if (!accepted.has(contextId)) {
        report({
          path: f.path,
          sopInstanceUid: f.sopInstanceUid,
          error: 'no presentation context accepted for its SOP class and transfer syntax',
        });
        continue;
      }
      if (association.state !== 'Sta6') {
        const ended = new AssociationClosedError('association ended');
        report({
          path: f.path,
          sopInstanceUid: f.sopInstanceUid,
          error: ended.message,
          cause: ended,
        });
        continue;
      }
      try {
        const stream = createReadStream(f.path, {
          start: f.datasetOffset,
          highWaterMark: FILE_READ_CHUNK,
        });
        const rsp = await requestor.request(
          contextId,
          {
            commandField: CommandField.CStoreRq,
            affectedSopClassUid: f.sopClassUid,
            affectedSopInstanceUid: f.sopInstanceUid,
            priority: 0,
          },
          withDeflatePadding(stream as AsyncIterable<Buffer>, f.transferSyntaxUid),
        );
        report({
          path: f.path,
          sopInstanceUid: f.sopInstanceUid,
          status: rsp.command.status ?? 0xffff,
          ...(rsp.command.errorComment ? { error: rsp.command.errorComment } : {}),
        });
      } catch (err) {
        report({
          path: f.path,
          sopInstanceUid: f.sopInstanceUid,
          error: (err as Error).message,
          cause: err as Error,
        });
      }
    }
  } finally {
    await association.release().catch(() => association.abort());
  }
}
