// Receiving one instance into the cache: the data set streams to a temp file behind a
// Part 10 header while the scanner walks it for the index attributes; only when the data
// set is complete and well-formed is the file made durable, renamed into place under a
// name of its own and indexed. Any failure leaves nothing behind: no file, no row, and the
// copy acknowledged before (if any) is untouched. The one file the committed index no
// longer lists is listed for deletion in that commit (unlisted_files, see evictor.ts).
import {
  createDatasetReader,
  type DatasetHeadReader,
} from '../firmware/dicom/dataset/dataset-reader';
import { decodeText } from '../firmware/dicom/dataset/charset';
import { encodePart10Header } from '../firmware/dicom/dataset/part10';
import { drain } from '../firmware/dicom/dimse/dimse-channel';
import { DatasetParseError } from '../firmware/dicom/errors';
import { Tag } from '../firmware/dicom/registry/tags';
import { log } from '../firmware/log';
import { transferSyntax, type TransferSyntax } from '../firmware/dicom/registry/transfer-syntaxes';
import { Cache, InvalidUidError, parseInstancePath, type TempFile } from './cache';
import { contentDigest } from './content-digest';
import { faultPoint } from './fault-points';
import { INDEXED_ATTRIBUTES, type IndexedValues } from './indexed-attributes';
import type { Index, InstanceRecord } from './index';
import { ADMIT_ALL, type Admission, type Reservation } from './reservations';
import { InvalidInstanceError, OutOfResourcesError } from './store-errors';

/** What the scanner keeps from the top level of each data set: the indexed attributes, and
 * what placing and checking the instance needs. */
export const INDEXED_TAGS: ReadonlySet<number> = new Set([
  ...INDEXED_ATTRIBUTES.map((a) => a.tag),
  Tag.SpecificCharacterSet,
  Tag.SopInstanceUid,
  Tag.StudyInstanceUid,
  Tag.SeriesInstanceUid,
]);

export interface IncomingInstance {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly callingAeTitle: string;
}

/** What routing decisions may look at (PRODUCT.md: calling AE, modality, SOP class). */
export interface RoutingFacts {
  readonly callingAeTitle: string;
  readonly modality: string;
  readonly sopClassUid: string;
}

/** Decides which nodes an instance is forwarded to. */
export type Router = (facts: RoutingFacts) => readonly string[];

/**
 * Looks at an instance received whole, before its row (and so its forward jobs) exists:
 * the worklist's check on arrival (firmware/worklist/arrival-check.ts). Its failure is
 * logged and never fails the C-STORE.
 */
export type ArrivalCheck = (record: InstanceRecord) => Promise<void>;

export interface ReceivedInstance {
  readonly path: string;
  readonly datasetBytes: number;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  /** From the last fragment received to file, directory entry and index row durable. */
  readonly durableSeconds: number;
}

/** The temp file of a receive, and whether it became the instance's cache file. */
interface TempHolder {
  temp?: TempFile;
  committed?: boolean;
}

/** A data set received whole into its temp file. */
interface Streamed {
  readonly temp: TempFile;
  readonly values: Map<number, Buffer>;
  readonly datasetOffset: number;
  readonly digest: string;
  /** When the last fragment arrived: durability is timed from it. */
  readonly lastFragmentAt: bigint;
}

export class InstanceStore {
  constructor(
    readonly cache: Cache,
    readonly index: Index,
    /** Replaced when the configuration changes; no forwarding by default. */
    public router: Router = () => [],
  ) {}

  /** Told after every instance is durable and indexed, with its destinations. */
  onStored: (destinations: readonly string[]) => void = () => undefined;

  /** Told of each instance received, before it is indexed; nothing by default. */
  arrivalCheck: ArrivalCheck = async () => undefined;

  /** Admits each new instance and keeps room for it on the disk (the evictor, in the box). */
  admission: Admission = ADMIT_ALL;

  /** Receives under way (an association may end before its receive has finished). */
  private readonly receiving = new Set<Promise<unknown>>();

  /** Resolves when every receive under way has finished (before the index closes). */
  async idle(): Promise<void> {
    await Promise.allSettled(this.receiving);
  }

  /**
   * Streams a data set into the cache and indexes it. Resolves only when file, directory
   * entry and index row are durable. Always consumes `dataset` to its end, so that the
   * association can answer after the last fragment even when storing failed.
   */
  receive(incoming: IncomingInstance, dataset: AsyncIterable<Buffer>): Promise<ReceivedInstance> {
    const work = this.receiveNow(incoming, dataset);
    this.receiving.add(work);
    void work.catch(() => undefined).finally(() => this.receiving.delete(work));
    return work;
  }

  private async receiveNow(
    incoming: IncomingInstance,
    dataset: AsyncIterable<Buffer>,
  ): Promise<ReceivedInstance> {
    const ts = transferSyntax(incoming.transferSyntaxUid);
    if (!ts) {
      await drain(dataset);
      throw new InvalidInstanceError(
        `unknown transfer syntax ${incoming.transferSyntaxUid}`,
        'cannot-understand',
      );
    }
    let reservation: Reservation;
    try {
      reservation = await this.admission.admit();
    } catch (err) {
      await drain(dataset);
      throw err;
    }
    let stored = false;
    try {
      const received = await this.write(incoming, ts, dataset, reservation);
      stored = true;
      return received;
    } finally {
      this.admission.release(reservation, stored);
    }
  }

  private async write(
    incoming: IncomingInstance,
    ts: TransferSyntax,
    dataset: AsyncIterable<Buffer>,
    reservation: Reservation,
  ): Promise<ReceivedInstance> {
    const file: TempHolder = {};
    try {
      const streamed = await this.streamIn(incoming, ts, dataset, reservation, file);
      return await this.commitInstance(incoming, streamed, file);
    } finally {
      if (!file.committed) await file.temp?.discard();
    }
  }

  /**
   * The data set to a temp file behind its Part 10 header, scanned and digested on the
   * way. Reads to the last fragment whatever fails, then throws the first failure.
   */
  private async streamIn(
    incoming: IncomingInstance,
    ts: TransferSyntax,
    dataset: AsyncIterable<Buffer>,
    reservation: Reservation,
    file: TempHolder,
  ): Promise<Streamed> {
    const reader: DatasetHeadReader = createDatasetReader(ts, INDEXED_TAGS);
    const digest = contentDigest();
    let failure: Error | undefined;
    try {
      const header = encodePart10Header({
        mediaStorageSopClassUid: incoming.sopClassUid,
        mediaStorageSopInstanceUid: incoming.sopInstanceUid,
        transferSyntaxUid: incoming.transferSyntaxUid,
        sourceApplicationEntityTitle: incoming.callingAeTitle,
      });
      await this.admission.room(reservation, header.length);
      file.temp = await this.cache.createTemp();
      await file.temp.write(header);
    } catch (err) {
      failure = asOutOfResources(err, 'create cache file');
    }
    const datasetOffset = file.temp?.size ?? 0;
    for await (const chunk of dataset) {
      if (failure) continue; // keep reading to the last fragment, store nothing
      try {
        const wait = reader.write(chunk);
        if (wait) await wait;
      } catch (err) {
        failure = asInvalid(err);
        continue;
      }
      digest.update(chunk);
      try {
        await this.admission.room(reservation, chunk.length);
        await file.temp!.write(chunk);
      } catch (err) {
        failure = asOutOfResources(err, 'write cache file');
      }
    }
    if (failure) throw failure;
    const lastFragmentAt = process.hrtime.bigint();
    try {
      const values = await reader.end();
      return {
        temp: file.temp!,
        values,
        datasetOffset,
        digest: digest.digest(),
        lastFragmentAt,
      };
    } catch (err) {
      throw asInvalid(err);
    }
  }

  /**
   * File made durable under its name, then the index row: only then is it acknowledged.
   * The row's commit is not flushed (sqlite.ts): after a power cut the start-up check adopts
   * a new instance's file. A copy that changes an instance acknowledged before is different:
   * an unlisted file of a listed instance is taken for one never acknowledged (promise 2:
   * an acknowledged version is never replaced by one that was not), so its acknowledgement
   * waits for the index that names it to be durable — a second flush, for changed re-sends
   * alone.
   */
  private async commitInstance(
    incoming: IncomingInstance,
    s: Streamed,
    file: TempHolder,
  ): Promise<ReceivedInstance> {
    const record = this.recordFrom(incoming, s.values, s.temp.size, s.datasetOffset, s.digest);
    try {
      await this.cache.commit(s.temp, record.path);
    } catch (err) {
      throw new OutOfResourcesError(`cannot make cache file durable: ${(err as Error).message}`);
    }
    file.committed = true;
    await faultPoint('stored-file');
    // Before the row: a forward job must never be taken before what the check decided
    // for the forwarded copy is recorded.
    await this.arrivalCheck(record).catch((err: Error) =>
      log.warn('check on arrival failed; the instance is stored unchecked', {
        sop: record.sopInstanceUid,
        reason: err.message,
      }),
    );
    let changed: boolean;
    try {
      ({ changed } = await this.index.instances.storeInstance(record));
    } catch (err) {
      // Not acknowledged: the new file (a name no row lists) goes; any earlier copy stays.
      await this.cache.remove(record.path);
      throw new OutOfResourcesError(`cannot index the instance: ${(err as Error).message}`);
    }
    // The row names the new file now: a failure to make it durable leaves both in place and
    // answers A700 (the copy is not acknowledged; the index and the files still agree).
    if (changed) {
      await this.index.durable().catch((err: Error) => {
        throw new OutOfResourcesError(`cannot make the index durable: ${err.message}`);
      });
    }
    await faultPoint('indexed');
    this.onStored(record.forwardTo);
    return {
      path: record.path,
      datasetBytes: record.size - s.datasetOffset,
      studyInstanceUid: record.studyInstanceUid,
      seriesInstanceUid: record.seriesInstanceUid,
      durableSeconds: Number(process.hrtime.bigint() - s.lastFragmentAt) / 1e9,
    };
  }

  /**
   * Builds the index row from the scanned values (and throws if required UIDs are bad).
   * The row names a new cache file, or `existingPath` (reindex, adopting a file) after
   * checking that the file's name agrees with its UIDs.
   */
  recordFrom(
    incoming: IncomingInstance,
    values: Map<number, Buffer>,
    size: number,
    datasetOffset: number,
    digest: string,
    existingPath?: string,
  ): InstanceRecord {
    const charset = values.get(Tag.SpecificCharacterSet)?.toString('latin1').trim() ?? '';
    const text = (tag: number): string => {
      const v = values.get(tag);
      return v ? decodeText(v, charset).trim() : '';
    };
    const uid = (tag: number): string =>
      (values.get(tag)?.toString('latin1') ?? '').replace(/[\0 ]+$/, '');
    const studyInstanceUid = uid(Tag.StudyInstanceUid);
    const seriesInstanceUid = uid(Tag.SeriesInstanceUid);
    const datasetSopInstanceUid = uid(Tag.SopInstanceUid);
    if (datasetSopInstanceUid && datasetSopInstanceUid !== incoming.sopInstanceUid) {
      throw new InvalidInstanceError(
        `SOP Instance UID in the data set (${datasetSopInstanceUid}) differs from the command's (${incoming.sopInstanceUid})`,
        'mismatch',
      );
    }
    let relativePath: string;
    try {
      relativePath = this.cache.newInstancePath(
        studyInstanceUid,
        seriesInstanceUid,
        incoming.sopInstanceUid,
      );
    } catch (err) {
      if (err instanceof InvalidUidError) throw new InvalidInstanceError(err.message, 'mismatch');
      throw err;
    }
    if (existingPath !== undefined) {
      const named = parseInstancePath(existingPath);
      if (
        named?.studyInstanceUid !== studyInstanceUid ||
        named.seriesInstanceUid !== seriesInstanceUid ||
        named.sopInstanceUid !== incoming.sopInstanceUid
      ) {
        throw new InvalidInstanceError(
          `file lies at ${existingPath} but its UIDs place it in ${relativePath.slice(0, relativePath.lastIndexOf('/'))}`,
          'mismatch',
        );
      }
      relativePath = existingPath;
    }
    const attributes = Object.fromEntries(
      INDEXED_ATTRIBUTES.map((a) => [a.name, text(a.tag)]),
    ) as IndexedValues;
    return {
      sopInstanceUid: incoming.sopInstanceUid,
      sopClassUid: incoming.sopClassUid,
      transferSyntaxUid: incoming.transferSyntaxUid,
      studyInstanceUid,
      seriesInstanceUid,
      path: relativePath,
      size,
      datasetOffset,
      receivedAt: new Date().toISOString(),
      callingAeTitle: incoming.callingAeTitle,
      attributes,
      specificCharacterSet: charset,
      digest,
      forwardTo: this.router({
        callingAeTitle: incoming.callingAeTitle,
        modality: attributes.modality,
        sopClassUid: incoming.sopClassUid,
      }),
    };
  }
}

function asInvalid(err: unknown): Error {
  if (err instanceof DatasetParseError)
    return new InvalidInstanceError(err.message, 'cannot-understand');
  return err as Error;
}

/** A refusal of the admission as it is; any other failure as "cannot ...: reason". */
function asOutOfResources(err: unknown, doing: string): OutOfResourcesError {
  if (err instanceof OutOfResourcesError) return err;
  return new OutOfResourcesError(`cannot ${doing}: ${(err as Error).message}`);
}
