// Decoding text values per Specific Character Set (0008,0005), PS3.5 §6.1 and PS3.3
// C.12.1.1.2. The common single-byte and UTF-8 repertoires are mapped to decoders Node
// ships; ISO 2022 code extensions are decoded by their first (default) repertoire.
const DECODERS: Record<string, string> = {
  '': 'latin1',
  ISO_IR_6: 'latin1',
  ISO_IR_100: 'latin1',
  ISO_IR_101: 'iso-8859-2',
  ISO_IR_109: 'iso-8859-3',
  ISO_IR_110: 'iso-8859-4',
  ISO_IR_144: 'iso-8859-5',
  ISO_IR_127: 'iso-8859-6',
  ISO_IR_126: 'iso-8859-7',
  ISO_IR_138: 'iso-8859-8',
  ISO_IR_148: 'iso-8859-9',
  ISO_IR_203: 'iso-8859-15',
  ISO_IR_166: 'windows-874',
  ISO_IR_192: 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

export function decodeText(value: Buffer, specificCharacterSet: string): string {
  const first = (specificCharacterSet.split('\\')[0] ?? '')
    .trim()
    .replace(/^ISO 2022 /, '')
    .replace(/ /g, '_');
  const label = DECODERS[first] ?? 'latin1';
  let text: string;
  try {
    text = label === 'latin1' ? value.toString('latin1') : new TextDecoder(label).decode(value);
  } catch {
    text = value.toString('latin1');
  }
  // Trailing padding (space or NUL) is not significant (PS3.5 §6.2).
  return text.replace(/[\0 ]+$/, '');
}
