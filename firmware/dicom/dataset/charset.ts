// Decoding text values per Specific Character Set (0008,0005), PS3.5 §6.1 and PS3.3
// C.12.1.1.2. A single repertoire (ISO_IR 100, ISO_IR 192, GB18030 ...) maps to a decoder
// Node ships. ISO 2022 code extensions (PS3.5 §6.1.2.5, Tables C.12-3/4, Annexes H-K) are
// decoded by following their escape sequences: each run of bytes goes to the decoder of
// the set designated to G0 (bytes below 80H) or G1 (80H and above) at that point. Node's
// WHATWG TextDecoder (full ICU) has every repertoire needed — EUC-JP for JIS X 0208 and
// JIS X 0212, EUC-KR for KS X 1001, GBK for GB 2312 — so no library is needed: what is
// missing from it is only the ISO 2022 switching, which is below.
import { TextDecoder } from 'node:util';

/** A graphic character set: decodes a run of bytes that all belong to it. */
type GraphicSet = (bytes: Buffer) => string;

const decoders = new Map<string, TextDecoder>();
function whatwg(label: string): GraphicSet {
  return (bytes) => {
    let d = decoders.get(label);
    if (!d) decoders.set(label, (d = new TextDecoder(label)));
    return d.decode(bytes);
  };
}

const ASCII: GraphicSet = (bytes) => bytes.toString('latin1');
/** ISO-IR 14, JIS X 0201 Romaji: ASCII but for the yen sign and the overline. */
const JIS_ROMAN: GraphicSet = (bytes) =>
  bytes.toString('latin1').replace(/\\/g, '\u00a5').replace(/~/g, '\u203e');
/** ISO-IR 13, JIS X 0201 Katakana in G1: A1H-DFH are the half-width katakana FF61H-FF9FH. */
const JIS_KATAKANA: GraphicSet = (bytes) =>
  String.fromCharCode(
    ...Array.from(bytes, (b) => (b >= 0xa1 && b <= 0xdf ? 0xff61 + b - 0xa1 : 0xfffd)),
  );
/** ISO-IR 87, JIS X 0208 in G0: each byte pair, with the high bits set, is EUC-JP. */
const JIS_X0208: GraphicSet = (bytes) => whatwg('euc-jp')(Buffer.from(bytes.map((b) => b | 0x80)));
/** ISO-IR 159, JIS X 0212 in G0: each byte pair is EUC-JP's 8FH code set 3. */
const JIS_X0212: GraphicSet = (bytes) => {
  const out: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2)
    out.push(0x8f, bytes[i]! | 0x80, bytes[i + 1]! | 0x80);
  return whatwg('euc-jp')(Buffer.from(out));
};

/** The single-byte repertoires, by their ISO-IR number: their upper half goes to G1. */
const SINGLE_BYTE: Record<string, GraphicSet> = {
  '100': ASCII, // Latin-1: the bytes are the code points
  '101': whatwg('iso-8859-2'),
  '109': whatwg('iso-8859-3'),
  '110': whatwg('iso-8859-4'),
  '144': whatwg('iso-8859-5'),
  '127': whatwg('iso-8859-6'),
  '126': whatwg('iso-8859-7'),
  '138': whatwg('iso-8859-8'),
  '148': whatwg('iso-8859-9'),
  '203': whatwg('iso-8859-15'),
  '166': whatwg('windows-874'), // TIS 620-2533 (its A0H-FFH are windows-874's)
};

/** The defined terms without code extensions (PS3.3 Table C.12-2), and their decoders. */
const WHOLE_VALUE: Record<string, GraphicSet> = {
  '': ASCII,
  ISO_IR_6: ASCII,
  // JIS X 0201 without extensions: Romaji below 80H, katakana above, no escapes.
  ISO_IR_13: (bytes) => decodeIso2022(bytes, { g0: JIS_ROMAN, g1: JIS_KATAKANA }),
  ISO_IR_192: whatwg('utf-8'),
  GB18030: whatwg('gb18030'),
  GBK: whatwg('gbk'),
  ...Object.fromEntries(Object.entries(SINGLE_BYTE).map(([ir, set]) => [`ISO_IR_${ir}`, set])),
};

interface Designation {
  readonly g0?: GraphicSet;
  readonly g1?: GraphicSet;
}

/** What an ISO 2022 term designates when it is the first value (the initial state). */
function initialDesignation(term: string): Designation {
  const ir = /^ISO[ _]2022[ _]IR[ _](\d+)$/.exec(term)?.[1] ?? /^ISO_IR[ _](\d+)$/.exec(term)?.[1];
  if (ir === '13') return { g0: JIS_ROMAN, g1: JIS_KATAKANA };
  if (ir && SINGLE_BYTE[ir]) return { g0: ASCII, g1: SINGLE_BYTE[ir] };
  return { g0: ASCII };
}

/** The escape sequences of PS3.5 Tables 6.2-1 to 6.2-4 (after ESC), and what they designate. */
const ESCAPES: ReadonlyArray<readonly [string, Designation]> = [
  ['(B', { g0: ASCII }], // ISO-IR 6
  ['(J', { g0: JIS_ROMAN }], // ISO-IR 14
  [')I', { g1: JIS_KATAKANA }], // ISO-IR 13
  ['$B', { g0: JIS_X0208 }], // ISO-IR 87
  ['$(D', { g0: JIS_X0212 }], // ISO-IR 159
  ['$)C', { g1: whatwg('euc-kr') }], // ISO-IR 149, KS X 1001
  ['$)A', { g1: whatwg('gbk') }], // ISO-IR 58, GB 2312
  ['-A', { g1: SINGLE_BYTE['100']! }],
  ['-B', { g1: SINGLE_BYTE['101']! }],
  ['-C', { g1: SINGLE_BYTE['109']! }],
  ['-D', { g1: SINGLE_BYTE['110']! }],
  ['-L', { g1: SINGLE_BYTE['144']! }],
  ['-G', { g1: SINGLE_BYTE['127']! }],
  ['-F', { g1: SINGLE_BYTE['126']! }],
  ['-H', { g1: SINGLE_BYTE['138']! }],
  ['-M', { g1: SINGLE_BYTE['148']! }],
  ['-b', { g1: SINGLE_BYTE['203']! }],
  ['-T', { g1: SINGLE_BYTE['166']! }],
];

const ESC = 0x1b;

/** Decodes a value whose Specific Character Set uses ISO 2022 code extensions. */
function decodeIso2022(value: Buffer, initial: Designation): string {
  let g0 = initial.g0 ?? ASCII;
  let g1 = initial.g1;
  let out = '';
  let runStart = 0;
  let runHigh = false;
  const flush = (end: number): void => {
    if (end <= runStart) return;
    const run = value.subarray(runStart, end);
    // Bytes of the upper half with nothing designated to G1: taken as Latin-1, not lost.
    out += runHigh ? (g1 ?? ASCII)(run) : g0(run);
  };
  for (let i = 0; i < value.length;) {
    const b = value[i]!;
    if (b === ESC) {
      const match = ESCAPES.find(([seq]) =>
        value.subarray(i + 1, i + 1 + seq.length).equals(Buffer.from(seq, 'latin1')),
      );
      if (match) {
        flush(i);
        if (match[1].g0) g0 = match[1].g0;
        if (match[1].g1) g1 = match[1].g1;
        i += 1 + match[0].length;
        runStart = i;
        continue;
      }
    }
    const high = b >= 0x80;
    if (high !== runHigh) {
      flush(i);
      runStart = i;
      runHigh = high;
    }
    i++;
  }
  flush(value.length);
  return out;
}

/** The value as text, by the data set's Specific Character Set (its raw value). */
export function decodeText(value: Buffer, specificCharacterSet: string): string {
  const terms = specificCharacterSet.split('\\').map((t) => t.trim());
  const first = terms[0] ?? '';
  let text: string;
  try {
    if (terms.some((t) => t.startsWith('ISO 2022'))) {
      text = decodeIso2022(value, initialDesignation(first));
    } else {
      text = (WHOLE_VALUE[first.replace(/ /g, '_')] ?? ASCII)(value);
    }
  } catch {
    text = value.toString('latin1');
  }
  // Trailing padding (space or NUL) is not significant (PS3.5 §6.2).
  return text.replace(/[\0 ]+$/, '');
}
