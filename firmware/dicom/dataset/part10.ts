// DICOM Part 10 files (PS3.10 §7.1): 128-byte preamble, "DICM", then the File Meta
// Information group (0002), always Explicit VR Little Endian, then the data set in the
// transfer syntax the meta names. Pure functions over buffers.
import { Part10Error } from '../errors';
import { Tag } from '../registry/tags';
import { LONG_LENGTH_VRS } from '../registry/vr';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, trimUid } from '../registry/uid';

export interface FileMeta {
  readonly mediaStorageSopClassUid: string;
  readonly mediaStorageSopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly implementationClassUid?: string;
  readonly implementationVersionName?: string;
  readonly sourceApplicationEntityTitle?: string;
}

export interface Part10Header {
  readonly meta: FileMeta;
  /** Byte offset of the data set in the file. */
  readonly datasetOffset: number;
}

const PREAMBLE_LENGTH = 128;
const MAGIC = 'DICM';

function metaElement(tag: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

function padded(value: string, pad: '\0' | ' '): Buffer {
  return Buffer.from(value.length % 2 ? value + pad : value, 'latin1');
}

/** Preamble, magic and File Meta Information for a data set about to be written. */
export function encodePart10Header(
  meta: Omit<FileMeta, 'implementationClassUid' | 'implementationVersionName'>,
): Buffer {
  const elements = [
    metaElement(Tag.FileMetaInformationVersion, 'OB', Buffer.from([0x00, 0x01])),
    metaElement(Tag.MediaStorageSopClassUid, 'UI', padded(meta.mediaStorageSopClassUid, '\0')),
    metaElement(
      Tag.MediaStorageSopInstanceUid,
      'UI',
      padded(meta.mediaStorageSopInstanceUid, '\0'),
    ),
    metaElement(Tag.TransferSyntaxUid, 'UI', padded(meta.transferSyntaxUid, '\0')),
    metaElement(Tag.ImplementationClassUid, 'UI', padded(IMPLEMENTATION_CLASS_UID, '\0')),
    metaElement(Tag.ImplementationVersionName, 'SH', padded(IMPLEMENTATION_VERSION_NAME, ' ')),
  ];
  if (meta.sourceApplicationEntityTitle) {
    elements.push(
      metaElement(
        Tag.SourceApplicationEntityTitle,
        'AE',
        padded(meta.sourceApplicationEntityTitle, ' '),
      ),
    );
  }
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length);
  return Buffer.concat([
    Buffer.alloc(PREAMBLE_LENGTH),
    Buffer.from(MAGIC, 'latin1'),
    metaElement(Tag.FileMetaInformationGroupLength, 'UL', groupLength),
    body,
  ]);
}

/**
 * Parses the preamble and File Meta Information from the head of a file. `head` must hold
 * at least the whole meta group; Part10Error says what is wrong otherwise.
 */
export function parsePart10Header(head: Buffer): Part10Header {
  if (
    head.length < PREAMBLE_LENGTH + 4 ||
    head.toString('latin1', PREAMBLE_LENGTH, PREAMBLE_LENGTH + 4) !== MAGIC
  ) {
    throw new Part10Error('not a DICOM Part 10 file (no "DICM" after the 128-byte preamble)');
  }
  let off = PREAMBLE_LENGTH + 4;
  const values = new Map<number, Buffer>();
  let end = Infinity;
  while (off < end) {
    // Without a group length, the meta ends where group 0002 does.
    if (end === Infinity && (off + 2 > head.length || head.readUInt16LE(off) !== 0x0002)) break;
    if (off + 8 > head.length) throw new Part10Error('File Meta Information is truncated');
    if (head.readUInt16LE(off) !== 0x0002)
      throw new Part10Error('File Meta group length overruns group 0002');
    const elem = head.readUInt16LE(off + 2);
    const tag = ((0x0002 << 16) | elem) >>> 0;
    const vr = head.toString('latin1', off + 4, off + 6);
    let length: number;
    let valueStart: number;
    if (LONG_LENGTH_VRS.has(vr)) {
      if (off + 12 > head.length) throw new Part10Error('File Meta Information is truncated');
      length = head.readUInt32LE(off + 8);
      valueStart = off + 12;
    } else {
      length = head.readUInt16LE(off + 6);
      valueStart = off + 8;
    }
    if (valueStart + length > head.length)
      throw new Part10Error(`File Meta element (0002,${elem.toString(16)}) is truncated`);
    const value = head.subarray(valueStart, valueStart + length);
    if (tag === Tag.FileMetaInformationGroupLength && length === 4)
      end = valueStart + length + value.readUInt32LE(0);
    values.set(tag, value);
    off = valueStart + length;
  }
  const text = (tag: number): string | undefined => {
    const v = values.get(tag);
    return v === undefined ? undefined : trimUid(v.toString('latin1'));
  };
  const mediaStorageSopClassUid = text(Tag.MediaStorageSopClassUid);
  const mediaStorageSopInstanceUid = text(Tag.MediaStorageSopInstanceUid);
  const transferSyntaxUid = text(Tag.TransferSyntaxUid);
  if (!mediaStorageSopClassUid || !mediaStorageSopInstanceUid || !transferSyntaxUid) {
    throw new Part10Error(
      'File Meta Information lacks the SOP class, SOP instance or transfer syntax UID',
    );
  }
  const implementationClassUid = text(Tag.ImplementationClassUid);
  const implementationVersionName = text(Tag.ImplementationVersionName);
  const sourceApplicationEntityTitle = text(Tag.SourceApplicationEntityTitle);
  return {
    meta: {
      mediaStorageSopClassUid,
      mediaStorageSopInstanceUid,
      transferSyntaxUid,
      ...(implementationClassUid ? { implementationClassUid } : {}),
      ...(implementationVersionName ? { implementationVersionName } : {}),
      ...(sourceApplicationEntityTitle ? { sourceApplicationEntityTitle } : {}),
    },
    datasetOffset: off,
  };
}

/** How many bytes of a file's head are enough for parsePart10Header in practice. */
export const PART10_HEAD_BYTES = 64 * 1024;
