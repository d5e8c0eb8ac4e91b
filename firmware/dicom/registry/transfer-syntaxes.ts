// Transfer syntaxes of PS3.6 Table A-1 (2024 editions), with the few properties the box
// needs to walk a data set. Everything encapsulated is passed through untouched
// (promise 2): the box never needs to decode pixel data.

export interface TransferSyntax {
  readonly uid: string;
  readonly name: string;
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
  /** The data set is a raw deflate stream (PS3.5 §A.5). */
  readonly deflated: boolean;
  /** Pixel data is encapsulated (PS3.5 §A.4): compressed or fragmented. */
  readonly encapsulated: boolean;
  readonly retired?: boolean;
}

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

type Row = [
  uid: string,
  name: string,
  kind: 'native' | 'deflated' | 'encapsulated' | 'big',
  retired?: 'retired',
];

const ROWS: Row[] = [
  [IMPLICIT_VR_LITTLE_ENDIAN, 'Implicit VR Little Endian', 'native'],
  [EXPLICIT_VR_LITTLE_ENDIAN, 'Explicit VR Little Endian', 'native'],
  ['1.2.840.10008.1.2.1.98', 'Encapsulated Uncompressed Explicit VR Little Endian', 'encapsulated'],
  [DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, 'Deflated Explicit VR Little Endian', 'deflated'],
  [EXPLICIT_VR_BIG_ENDIAN, 'Explicit VR Big Endian', 'big', 'retired'],
  ['1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'encapsulated'],
  ['1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', 'encapsulated'],
  ['1.2.840.10008.1.2.4.52', 'JPEG Extended (Process 3 & 5)', 'encapsulated', 'retired'],
  [
    '1.2.840.10008.1.2.4.53',
    'JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8)',
    'encapsulated',
    'retired',
  ],
  [
    '1.2.840.10008.1.2.4.54',
    'JPEG Spectral Selection, Non-Hierarchical (Process 7 & 9)',
    'encapsulated',
    'retired',
  ],
  [
    '1.2.840.10008.1.2.4.55',
    'JPEG Full Progression, Non-Hierarchical (Process 10 & 12)',
    'encapsulated',
    'retired',
  ],
  [
    '1.2.840.10008.1.2.4.56',
    'JPEG Full Progression, Non-Hierarchical (Process 11 & 13)',
    'encapsulated',
    'retired',
  ],
  ['1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'encapsulated'],
  [
    '1.2.840.10008.1.2.4.58',
    'JPEG Lossless, Non-Hierarchical (Process 15)',
    'encapsulated',
    'retired',
  ],
  [
    '1.2.840.10008.1.2.4.59',
    'JPEG Extended, Hierarchical (Process 16 & 18)',
    'encapsulated',
    'retired',
  ],
  [
    '1.2.840.10008.1.2.4.60',
    'JPEG Extended, Hierarchical (Process 17 & 19)',
    'encapsulated',
    'retired',
  ],
  [
    '1.2.840.10008.1.2.4.61',
    'JPEG Spectral Selection, Hierarchical (Process 20 & 22)',
    'encapsulated',
    'retired',
  ],
  [
    '1.2.840.10008.1.2.4.62',
    'JPEG Spectral Selection, Hierarchical (Process 21 & 23)',
    'encapsulated',
    'retired',
  ],
  [
    '1.2.840.10008.1.2.4.63',
    'JPEG Full Progression, Hierarchical (Process 24 & 26)',
    'encapsulated',
    'retired',
  ],
  [
    '1.2.840.10008.1.2.4.64',
    'JPEG Full Progression, Hierarchical (Process 25 & 27)',
    'encapsulated',
    'retired',
  ],
  ['1.2.840.10008.1.2.4.65', 'JPEG Lossless, Hierarchical (Process 28)', 'encapsulated', 'retired'],
  ['1.2.840.10008.1.2.4.66', 'JPEG Lossless, Hierarchical (Process 29)', 'encapsulated', 'retired'],
  [
    '1.2.840.10008.1.2.4.70',
    'JPEG Lossless, Non-Hierarchical, First-Order Prediction (SV1)',
    'encapsulated',
  ],
  ['1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'encapsulated'],
  ['1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)', 'encapsulated'],
  ['1.2.840.10008.1.2.4.90', 'JPEG 2000 (Lossless Only)', 'encapsulated'],
  ['1.2.840.10008.1.2.4.91', 'JPEG 2000', 'encapsulated'],
  ['1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component (Lossless Only)', 'encapsulated'],
  ['1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component', 'encapsulated'],
  ['1.2.840.10008.1.2.4.94', 'JPIP Referenced', 'native'],
  ['1.2.840.10008.1.2.4.95', 'JPIP Referenced Deflate', 'deflated'],
  ['1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level', 'encapsulated'],
  ['1.2.840.10008.1.2.4.100.1', 'Fragmentable MPEG2 Main Profile / Main Level', 'encapsulated'],
  ['1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile / High Level', 'encapsulated'],
  ['1.2.840.10008.1.2.4.101.1', 'Fragmentable MPEG2 Main Profile / High Level', 'encapsulated'],
  ['1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1', 'encapsulated'],
  [
    '1.2.840.10008.1.2.4.102.1',
    'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1',
    'encapsulated',
  ],
  [
    '1.2.840.10008.1.2.4.103',
    'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
    'encapsulated',
  ],
  [
    '1.2.840.10008.1.2.4.103.1',
    'Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
    'encapsulated',
  ],
  [
    '1.2.840.10008.1.2.4.104',
    'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video',
    'encapsulated',
  ],
  [
    '1.2.840.10008.1.2.4.104.1',
    'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video',
    'encapsulated',
  ],
  [
    '1.2.840.10008.1.2.4.105',
    'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video',
    'encapsulated',
  ],
  [
    '1.2.840.10008.1.2.4.105.1',
    'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video',
    'encapsulated',
  ],
  ['1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'encapsulated'],
  [
    '1.2.840.10008.1.2.4.106.1',
    'Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2',
    'encapsulated',
  ],
  ['1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile / Level 5.1', 'encapsulated'],
  ['1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile / Level 5.1', 'encapsulated'],
  ['1.2.840.10008.1.2.4.110', 'JPEG XL Lossless', 'encapsulated'],
  ['1.2.840.10008.1.2.4.111', 'JPEG XL JPEG Recompression', 'encapsulated'],
  ['1.2.840.10008.1.2.4.112', 'JPEG XL', 'encapsulated'],
  [
    '1.2.840.10008.1.2.4.201',
    'High-Throughput JPEG 2000 Image Compression (Lossless Only)',
    'encapsulated',
  ],
  [
    '1.2.840.10008.1.2.4.202',
    'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)',
    'encapsulated',
  ],
  ['1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000 Image Compression', 'encapsulated'],
  ['1.2.840.10008.1.2.4.204', 'JPIP HTJ2K Referenced', 'native'],
  ['1.2.840.10008.1.2.4.205', 'JPIP HTJ2K Referenced Deflate', 'deflated'],
  ['1.2.840.10008.1.2.5', 'RLE Lossless', 'encapsulated'],
  ['1.2.840.10008.1.2.6.1', 'RFC 2557 MIME encapsulation', 'native', 'retired'],
  ['1.2.840.10008.1.2.6.2', 'XML Encoding', 'native', 'retired'],
  ['1.2.840.10008.1.2.7.1', 'SMPTE ST 2110-20 Uncompressed Progressive Active Video', 'native'],
  ['1.2.840.10008.1.2.7.2', 'SMPTE ST 2110-20 Uncompressed Interlaced Active Video', 'native'],
  ['1.2.840.10008.1.2.7.3', 'SMPTE ST 2110-30 PCM Digital Audio', 'native'],
];

export const TRANSFER_SYNTAXES: ReadonlyMap<string, TransferSyntax> = new Map(
  ROWS.map(([uid, name, kind, retired]) => [
    uid,
    {
      uid,
      name,
      explicitVr: uid !== IMPLICIT_VR_LITTLE_ENDIAN,
      littleEndian: kind !== 'big',
      deflated: kind === 'deflated',
      encapsulated: kind === 'encapsulated',
      ...(retired ? { retired: true } : {}),
    },
  ]),
);

export function transferSyntax(uid: string): TransferSyntax | undefined {
  return TRANSFER_SYNTAXES.get(uid);
}

/** The uncompressed syntaxes the box may transcode between (PRODUCT.md promise 2). */
export const UNCOMPRESSED_SYNTAXES: readonly string[] = [
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
];
