// Lossless JPEG-LS before a thin WAN (a node's "compress": "jpeg-ls-lossless"): the one
// deliberate exception to promise 2. The Pixel Data is re-encoded frame by frame (each
// decodes to exactly the original samples); every other element keeps its value, and the
// transfer syntax is the only other difference (an Implicit VR source is written with
// explicit VRs, as JPEG-LS Lossless is an explicit VR syntax).
//
// Two passes over the cache file, never the whole instance in memory: the plan reads the
// elements before Pixel Data (and checks every sample fits Bits Stored), the stream then
// copies the elements, encodes one frame at a time on the codec's thread, and copies what
// follows. The samples are checked in the plan, before the first byte goes (reading the
// pixels twice, the second time from the page cache): a sample that does not fit, found
// mid-send, could not fall back to the original without aborting the association.
// An instance the codec cannot take as it is (compressed already, signed samples
// narrower than their 16 bits, colour by plane) is sent as it is, with the reason logged.
import type { promises as fs } from 'node:fs';
import type { Cache } from '../../storage/cache';
import { DatasetScanner } from '../dicom/dataset/dataset-scanner';
import { DatasetParseError } from '../dicom/errors';
import { encodePart10Header } from '../dicom/dataset/part10';
import { Tag } from '../dicom/registry/tags';
import { transcode } from '../dicom/dataset/transcoder';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from '../dicom/registry/transfer-syntaxes';
import { log } from '../log';
import { openCacheFile, readExactly, readRange } from '../../storage/cache-file';
import { encodeJpegLs, type FrameInfo } from './jpeg-ls';

export const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';

/** The syntaxes re-encoded from: native little endian. */
export const COMPRESSIBLE_SYNTAXES: readonly string[] = [
  IMPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
];

export interface CompressibleInstance {
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly transferSyntaxUid: string;
  readonly path: string;
  readonly datasetOffset: number;
  readonly size: number;
}

export interface CompressionPlan {
  /** File offsets: the Pixel Data element's header, its value, the value's end. */
  readonly pixelDataAt: number;
  readonly valueAt: number;
  readonly valueEnd: number;
  readonly frames: number;
  readonly frameBytes: number;
  readonly frame: FrameInfo;
}

const WANTED = new Set([
  Tag.SamplesPerPixel,
  Tag.PhotometricInterpretation,
  Tag.PlanarConfiguration,
  Tag.NumberOfFrames,
  Tag.Rows,
  Tag.Columns,
  Tag.BitsAllocated,
  Tag.BitsStored,
  Tag.PixelRepresentation,
]);
/** Whether every sample fits in bitsStored bits (the JPEG-LS precision P). */
async function samplesFit(
  file: fs.FileHandle,
  start: number,
  end: number,
  bytesPerSample: number,
  bitsStored: number,
): Promise<boolean> {
  if (bitsStored === bytesPerSample * 8) return true;
  const limit = 1 << bitsStored;
  for await (const c of readRange(file, start, end - ((end - start) % bytesPerSample))) {
    for (let i = 0; i + bytesPerSample <= c.length; i += bytesPerSample) {
      const v = bytesPerSample === 2 ? c.readUInt16LE(i) : c[i]!;
      if (v >= limit) return false;
    }
  }
  return true;
}

function unsigned(values: Map<number, Buffer>, tag: number): number | undefined {
  const v = values.get(tag);
  return v && v.length >= 2 ? v.readUInt16LE(0) : undefined;
}

function text(values: Map<number, Buffer>, tag: number): string {
  return (values.get(tag)?.toString('latin1') ?? '').replace(/[\0 ]+$/, '').trim();
}

/** How this instance would be compressed, or why it is sent as it is. */
export async function planCompression(
  cache: Cache,
  instance: CompressibleInstance,
): Promise<CompressionPlan | { readonly skip: string }> {
  const ts = instance.transferSyntaxUid;
  if (!COMPRESSIBLE_SYNTAXES.includes(ts))
    return { skip: `its transfer syntax ${ts} is not native little endian` };
  const file = await openCacheFile(cache, instance.path);
  try {
    const scanner = new DatasetScanner(
      { explicitVr: ts === EXPLICIT_VR_LITTLE_ENDIAN, littleEndian: true },
      WANTED,
    );
    try {
      for await (const chunk of readRange(file, instance.datasetOffset, instance.size)) {
        scanner.write(chunk);
        if (scanner.pixelData) break;
      }
    } catch (err) {
      if (!(err instanceof DatasetParseError)) throw err;
      return { skip: `its data set cannot be read: ${err.message}` };
    }
    const pd = scanner.pixelData;
    if (!pd) return { skip: 'it has no native Pixel Data' };
    const v = scanner.values;
    const rows = unsigned(v, Tag.Rows);
    const columns = unsigned(v, Tag.Columns);
    const samples = unsigned(v, Tag.SamplesPerPixel) ?? 1;
    const bitsAllocated = unsigned(v, Tag.BitsAllocated);
    const bitsStored = unsigned(v, Tag.BitsStored) ?? bitsAllocated;
    const signed = unsigned(v, Tag.PixelRepresentation) === 1;
    const frames = Number(text(v, Tag.NumberOfFrames) || '1');
    if (
      !rows ||
      !columns ||
      !bitsAllocated ||
      !bitsStored ||
      !Number.isInteger(frames) ||
      frames < 1
    )
      return { skip: 'its image pixel attributes are missing or invalid' };
    if (bitsAllocated !== 8 && bitsAllocated !== 16)
      return { skip: `Bits Allocated ${bitsAllocated} is neither 8 nor 16` };
    if (bitsStored < 2 || bitsStored > bitsAllocated)
      return { skip: `Bits Stored ${bitsStored} does not fit Bits Allocated ${bitsAllocated}` };
    if (samples === 3 && (unsigned(v, Tag.PlanarConfiguration) ?? 0) !== 0)
      return { skip: 'its colour is by plane' };
    if (samples !== 1 && !(samples === 3 && bitsAllocated === 8))
      return { skip: `${samples} samples per pixel of ${bitsAllocated} bits` };
    if (signed && bitsStored < bitsAllocated)
      return { skip: `its samples are signed and ${bitsStored} of ${bitsAllocated} bits` };
    const frameBytes = rows * columns * samples * (bitsAllocated / 8);
    // A native value holds the frames, and one pad byte when their total is odd.
    const start = instance.datasetOffset + pd.valueAt;
    if (pd.length !== frames * frameBytes && pd.length !== frames * frameBytes + 1)
      return {
        skip: `its Pixel Data is ${pd.length} bytes, not ${frames} frames of ${frameBytes}`,
      };
    if (start + pd.length > instance.size)
      return { skip: `its file ends before its Pixel Data does (${instance.size} bytes)` };
    if (
      !signed &&
      !(await samplesFit(file, start, start + frames * frameBytes, bitsAllocated / 8, bitsStored))
    )
      return { skip: `it has samples above its Bits Stored (${bitsStored})` };
    return {
      pixelDataAt: instance.datasetOffset + pd.at,
      valueAt: start,
      valueEnd: start + pd.length,
      frames,
      frameBytes,
      frame: { width: columns, height: rows, bitsPerSample: bitsStored, componentCount: samples },
    };
  } finally {
    await file.close();
  }
}

/** The plan, or undefined (logged with why) when the instance goes as it is. */
export async function compressionFor(
  cache: Cache,
  instance: CompressibleInstance,
  destination: string,
): Promise<CompressionPlan | undefined> {
  const plan = await planCompression(cache, instance).catch((err: Error) => ({
    skip: err.message,
  }));
  if (!('skip' in plan)) return plan;
  log.debug('sent as it is', { dest: destination, sop: instance.sopInstanceUid, why: plan.skip });
  return undefined;
}

function tagLength(tag: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  b.writeUInt32LE(length, 4);
  return b;
}

/** Encapsulated Pixel Data (PS3.5 A.4): OB of undefined length, an empty offset table. */
function encapsulatedHeader(): Buffer {
  const header = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  return Buffer.concat([header, tagLength(Tag.Item, 0)]);
}

/** The data set in JPEG-LS Lossless (Explicit VR Little Endian around the pixels). */
export async function* compressedDataset(
  cache: Cache,
  instance: CompressibleInstance,
  plan: CompressionPlan,
): AsyncGenerator<Buffer> {
  const implicit = instance.transferSyntaxUid === IMPLICIT_VR_LITTLE_ENDIAN;
  const explicit = (data: AsyncIterable<Buffer>): AsyncIterable<Buffer> =>
    implicit ? transcode(data, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN) : data;
  const file = await openCacheFile(cache, instance.path);
  try {
    yield* explicit(readRange(file, instance.datasetOffset, plan.pixelDataAt));
    yield encapsulatedHeader();
    for (let f = 0; f < plan.frames; f++) {
      const samples = await readExactly(file, plan.valueAt + f * plan.frameBytes, plan.frameBytes);
      const encoded = await encodeJpegLs(samples, plan.frame);
      const pad = encoded.length % 2; // items are of even length: a trailing 00H (A.4)
      yield tagLength(Tag.Item, encoded.length + pad);
      yield pad ? Buffer.concat([encoded, Buffer.alloc(1)]) : encoded;
    }
    yield tagLength(Tag.SequenceDelimitationItem, 0);
    yield* explicit(readRange(file, plan.valueEnd, instance.size));
  } finally {
    await file.close();
  }
}

/** The same as a Part 10 file (for STOW-RS): File Meta Information naming JPEG-LS Lossless. */
export async function* compressedFile(
  cache: Cache,
  instance: CompressibleInstance,
  plan: CompressionPlan,
  /** What the data set goes through after compression (a worklist coercion). */
  filter: (data: AsyncIterable<Buffer>) => AsyncIterable<Buffer> = (data) => data,
): AsyncGenerator<Buffer> {
  yield encodePart10Header({
    mediaStorageSopClassUid: instance.sopClassUid,
    mediaStorageSopInstanceUid: instance.sopInstanceUid,
    transferSyntaxUid: JPEG_LS_LOSSLESS,
  });
  yield* filter(compressedDataset(cache, instance, plan));
}
