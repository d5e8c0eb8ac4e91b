// Specific Character Set decoding (PS3.5 §6.1), with the standard's own examples:
// Annex H (Japanese, ISO 2022 IR 87 with and without IR 13), Annex I (Korean, ISO 2022
// IR 149), Annex J (Chinese, ISO 2022 IR 58), Annex K (GB18030), and Latin-1 — plus bad
// input: unknown escapes, cut-off double-byte runs, upper-half bytes with no G1 set.
import { strict as assert } from 'node:assert';
import { decodeText } from '../../firmware/dicom/dataset/charset';
import { JAPANESE_H31, KOREAN_I2 } from '../support/charset-examples';

const ESC = '\x1b';
/** Bytes from a string of latin1 characters (each char one byte). */
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const hex = (h: string): string => Buffer.from(h.replace(/ /g, ''), 'hex').toString('latin1');

describe('Specific Character Set decoding (PS3.5 §6.1, Annexes H-K)', () => {
  it('H.3.1: ISO 2022 IR 87 (JIS X 0208) with escapes to and from ASCII', () => {
    assert.equal(
      decodeText(JAPANESE_H31, '\\ISO 2022 IR 87'),
      'Yamada^Tarou=山田^太郎=やまだ^たろう',
    );
  });

  it('H.3.2: ISO 2022 IR 13 (half-width katakana in G1, JIS X 0201 Romaji in G0) with IR 87', () => {
    const value = Buffer.concat([
      Buffer.from('D4CFC0DE5EC0DBB33D', 'hex'), // ﾔﾏﾀﾞ^ﾀﾛｳ=
      bytes(
        `${ESC}$B;3ED${ESC}(J^${ESC}$BB@O:${ESC}(J=${ESC}$B$d$^$@${ESC}(J^${ESC}$B$?$m$&${ESC}(J`,
      ),
    ]);
    assert.equal(
      decodeText(value, 'ISO 2022 IR 13\\ISO 2022 IR 87'),
      'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
    );
  });

  it('ISO_IR 13 alone: Romaji and half-width katakana, no escapes', () => {
    assert.equal(decodeText(Buffer.from('D4CFC0DE5E5C', 'hex'), 'ISO_IR 13'), 'ﾔﾏﾀﾞ^\u00a5');
  });

  it('I.2: ISO 2022 IR 149 (KS X 1001 in G1)', () => {
    assert.equal(decodeText(KOREAN_I2, '\\ISO 2022 IR 149'), 'Hong^Gildong=洪^吉洞=홍^길동');
  });

  it('J: ISO 2022 IR 58 (GB 2312 in G1)', () => {
    const value = bytes(`Zhang^XiaoDong=${ESC}$)A${hex('D5C5')}^${ESC}$)A${hex('D0A1 B6AB')}=`);
    assert.equal(decodeText(value, '\\ISO 2022 IR 58'), 'Zhang^XiaoDong=张^小东=');
  });

  it('K.1: GB18030, one repertoire without code extensions', () => {
    const value = Buffer.concat([bytes('Wang^XiaoDong='), Buffer.from('CDF55ED0A1B6AB3D', 'hex')]);
    assert.equal(decodeText(value, 'GB18030'), 'Wang^XiaoDong=王^小东=');
  });

  it('Latin-1 as ISO_IR 100 and as ISO 2022 IR 100, UTF-8 as ISO_IR 192', () => {
    assert.equal(decodeText(bytes('Buc^J\xe9r\xf4me'), 'ISO_IR 100'), 'Buc^Jérôme');
    assert.equal(decodeText(bytes('Buc^J\xe9r\xf4me'), 'ISO 2022 IR 100'), 'Buc^Jérôme');
    assert.equal(decodeText(Buffer.from('Buc^Jérôme ', 'utf8'), 'ISO_IR 192'), 'Buc^Jérôme');
    assert.equal(
      decodeText(
        bytes(`Dimitris=${ESC}-F${hex('c4e9ecdef4f1e7f2')}`),
        'ISO 2022 IR 6\\ISO 2022 IR 126',
      ),
      'Dimitris=Διμήτρης',
    );
  });

  it('redundant escape sequences change nothing (a query written by pynetdicom has them)', () => {
    const redundant = bytes(`${ESC}(B${ESC}(BYamada${ESC}$B${ESC}$B;3ED${ESC}(B`);
    assert.equal(decodeText(redundant, '\\ISO 2022 IR 87'), 'Yamada山田');
  });

  describe('bad input: decoded as far as it goes, never thrown', () => {
    it('an unknown escape sequence is kept as characters', () => {
      assert.equal(decodeText(bytes(`A${ESC}%GB`), '\\ISO 2022 IR 87'), `A${ESC}%GB`);
    });

    it('a double-byte run cut in the middle of a character', () => {
      const cut = bytes(`${ESC}$B;3E`);
      assert.equal(decodeText(cut, '\\ISO 2022 IR 87')[0], '山');
    });

    it('upper-half bytes with nothing designated to G1 are read as Latin-1', () => {
      assert.equal(decodeText(bytes('J\xe9r\xf4me'), '\\ISO 2022 IR 87'), 'Jérôme');
    });

    it('an unknown defined term is read as ASCII/Latin-1; garbage bytes in UTF-8 become U+FFFD', () => {
      assert.equal(decodeText(bytes('ABC\xe9'), 'ISO_IR 999'), 'ABCé');
      assert.equal(decodeText(Buffer.from([0x41, 0xff, 0x42]), 'ISO_IR 192'), 'A\ufffdB');
    });
  });
});
