// Synthetic instances for tests and benchmarks: CT-like images written as Part 10 files
// in Explicit VR Little Endian. Other transfer syntaxes are made from these by DCMTK's
// own converters, so the box is tested on bytes it did not write.
import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import { encodeDataset, type Element } from '../../firmware/dicom/dataset/dataset-writer';
import { encodePart10Header } from '../../firmware/dicom/dataset/part10';
import { Tag } from '../../firmware/dicom/registry/tags';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../firmware/dicom/registry/transfer-syntaxes';

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
export const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

export interface SyntheticOptions {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  sopClassUid?: string;
  /** Text (written UTF-8), or the value's bytes as a character set encodes them. */
  patientName?: string | Buffer;
  patientId?: string;
  patientBirthDate?: string;
  accessionNumber?: string;
  modality?: string;
  rows?: number;
  columns?: number;
  frames?: number;
  instanceNumber?: number;
  charset?: string;
  studyDate?: string;
  /** Extra elements (e.g. a sequence), merged in tag order. */
  extra?: Element[];
  /** Pixel values from a seeded pseudo-random sequence (12 bits): data that deflates poorly. */
  noiseSeed?: number;
  /** A CT-like slice (air, a body with noise, a bone ring) from this seed: compresses as CT does. */
  phantomSeed?: number;
  /** 1: signed samples (the values are the same bit patterns). */
  pixelRepresentation?: number;
}

/** Everything before Pixel Data, and the Pixel Data length. */
export function syntheticHead(o: SyntheticOptions): { head: Buffer; pixelBytes: number } {
  const rows = o.rows ?? 64;
  const columns = o.columns ?? 64;
  const frames = o.frames ?? 1;
  const pixelBytes = rows * columns * 2 * frames;
  const us = (v: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return b;
  };
  const elements: Element[] = [
    ...(o.charset ? [{ tag: Tag.SpecificCharacterSet, vr: 'CS', value: o.charset }] : []),
    { tag: Tag.SopClassUid, vr: 'UI', value: o.sopClassUid ?? CT_IMAGE_STORAGE },
    { tag: Tag.SopInstanceUid, vr: 'UI', value: o.sopInstanceUid },
    { tag: Tag.StudyDate, vr: 'DA', value: o.studyDate ?? '20261125' },
    { tag: Tag.StudyTime, vr: 'TM', value: '101500' },
    { tag: Tag.AccessionNumber, vr: 'SH', value: o.accessionNumber ?? 'ACC0001' },
    { tag: Tag.Modality, vr: 'CS', value: o.modality ?? 'CT' },
    { tag: Tag.ReferringPhysicianName, vr: 'PN', value: '' },
    { tag: Tag.StudyDescription, vr: 'LO', value: 'SYNTHETIC STUDY' },
    { tag: Tag.PatientName, vr: 'PN', value: o.patientName ?? 'TEST^PATIENT' },
    { tag: Tag.PatientId, vr: 'LO', value: o.patientId ?? 'PID0001' },
    { tag: Tag.PatientBirthDate, vr: 'DA', value: o.patientBirthDate ?? '19700101' },
    { tag: Tag.PatientSex, vr: 'CS', value: 'O' },
    { tag: Tag.StudyInstanceUid, vr: 'UI', value: o.studyUid },
    { tag: Tag.SeriesInstanceUid, vr: 'UI', value: o.seriesUid },
    { tag: Tag.StudyId, vr: 'SH', value: '1' },
    { tag: Tag.SeriesNumber, vr: 'IS', value: '1' },
    { tag: Tag.InstanceNumber, vr: 'IS', value: String(o.instanceNumber ?? 1) },
    ...(frames > 1 ? [{ tag: Tag.NumberOfFrames, vr: 'IS', value: String(frames) }] : []),
    { tag: 0x00280002, vr: 'US', value: us(1) }, // Samples per Pixel
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: us(rows) },
    { tag: 0x00280011, vr: 'US', value: us(columns) },
    { tag: 0x00280100, vr: 'US', value: us(16) }, // Bits Allocated
    { tag: 0x00280101, vr: 'US', value: us(12) }, // Bits Stored
    { tag: 0x00280102, vr: 'US', value: us(11) }, // High Bit
    { tag: 0x00280103, vr: 'US', value: us(o.pixelRepresentation ?? 0) }, // Pixel Representation
    ...(o.extra ?? []),
  ].sort((a, b) => a.tag - b.tag);
  const dataset = encodeDataset(elements, EXPLICIT_LE);
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OW', 4, 'latin1');
  pixelHeader.writeUInt32LE(pixelBytes, 8);
  return { head: Buffer.concat([dataset, pixelHeader]), pixelBytes };
}

/** A whole Explicit VR LE data set (no Part 10 header), pixel values a smooth pattern. */
export function syntheticDataset(o: SyntheticOptions): Buffer {
  const { head, pixelBytes } = syntheticHead(o);
  return Buffer.concat([head, pixelPattern(pixelBytes, 0)]);
}

function pixelPattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 2) b.writeUInt16LE((i / 2 + seed) % 4096, i);
  return b;
}

/** 12-bit values from xorshift32: the same bytes for the same seed, on every machine. */
function pixelNoise(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i += 2) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt16LE(x & 0x0fff, i);
  }
  return b;
}

/**
 * One CT-like slice, 12 bits stored as HU + 1024: air around an elliptical body of soft
 * tissue (40 HU) with a bone ring (700 HU), and quantum noise of about 15 HU.
 */
function phantom(rows: number, columns: number, seed: number): Buffer {
  const b = Buffer.alloc(rows * columns * 2);
  let x = seed >>> 0 || 1;
  const random = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < columns; c++) {
      const dx = (c - columns / 2) / (columns * 0.42);
      const dy = (r - rows / 2) / (rows * 0.32);
      const d = Math.sqrt(dx * dx + dy * dy);
      const hu = d > 1 ? -1000 : d > 0.9 ? 700 : 40 + 30 * Math.sin(r / 9) * Math.cos(c / 11);
      // About 15 HU of quantum noise everywhere, air included, as a CT scanner makes it.
      const noise = (random() + random() + random() + random() - 2) * 26;
      b.writeUInt16LE(
        Math.max(0, Math.min(4095, Math.round(hu + noise + 1024))),
        (r * columns + c) * 2,
      );
    }
  return b;
}

/** Writes a Part 10 file, streaming the pixel data (so a 300 MB file costs no 300 MB). */
export async function writeSyntheticFile(file: string, o: SyntheticOptions): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const { head, pixelBytes } = syntheticHead(o);
  const out = createWriteStream(file);
  const write = async (b: Buffer): Promise<void> => {
    if (!out.write(b)) await once(out, 'drain');
  };
  await write(
    encodePart10Header({
      mediaStorageSopClassUid: o.sopClassUid ?? CT_IMAGE_STORAGE,
      mediaStorageSopInstanceUid: o.sopInstanceUid,
      transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
    }),
  );
  await write(head);
  const blockBytes = Math.min(pixelBytes, 1 << 20);
  const block =
    o.phantomSeed !== undefined
      ? phantom(o.rows ?? 64, o.columns ?? 64, o.phantomSeed)
      : o.noiseSeed === undefined
        ? pixelPattern(blockBytes, 7)
        : pixelNoise(blockBytes, o.noiseSeed);
  for (let left = pixelBytes; left > 0; left -= block.length)
    await write(block.subarray(0, Math.min(block.length, left)));
  out.end();
  await once(out, 'finish');
}

/**
 * Writes `count` instances of one synthetic study (study n, one series, instances 1..count)
 * into dir; `options` apply to every instance.
 */
export async function writeSyntheticStudy(
  dir: string,
  n: number,
  count: number,
  options: Partial<Omit<SyntheticOptions, 'studyUid' | 'seriesUid' | 'sopInstanceUid'>> = {},
): Promise<string[]> {
  const files: string[] = [];
  for (let i = 1; i <= count; i++) {
    const f = path.join(dir, `study${n}-${i}.dcm`);
    await writeSyntheticFile(f, {
      studyUid: uid(n),
      seriesUid: uid(n, 1),
      sopInstanceUid: uid(n, 1, i),
      instanceNumber: i,
      ...options,
    });
    files.push(f);
  }
  return files;
}

export function uid(...parts: number[]): string {
  return ['2.25.3141592653589793', ...parts].join('.');
}
