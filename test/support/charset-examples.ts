// The standard's examples of names in ISO 2022 code extensions, as bytes (PS3.5 Annexes
// H and I), for the decoder's unit tests and the interop tests that send them.
const ESC = '\x1b';
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const hex = (h: string): string => Buffer.from(h.replace(/ /g, ''), 'hex').toString('latin1');

/** PS3.5 H.3.1: Yamada^Tarou=山田^太郎=やまだ^たろう under \ISO 2022 IR 87. */
export const JAPANESE_H31 = bytes(
  `Yamada^Tarou=${ESC}$B;3ED${ESC}(B^${ESC}$BB@O:${ESC}(B=${ESC}$B$d$^$@${ESC}(B^${ESC}$B$?$m$&${ESC}(B`,
);
/** PS3.5 I.2: Hong^Gildong=洪^吉洞=홍^길동 under \ISO 2022 IR 149. */
export const KOREAN_I2 = bytes(
  `Hong^Gildong=${ESC}$)C${hex('FBF3')}^${ESC}$)C${hex('D1CE D4D7')}=${ESC}$)C${hex('C8AB')}^${ESC}$)C${hex('B1E6 B5BF')}`,
);
