// Tags come from the registry (registry/tags.ts) and the dictionary only (issue 25): each
// tag the code names is declared once, under its keyword, and agrees with PS3.6.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatTag } from '../../firmware/dicom/dataset/element-header';
import { lookupTag, tagForKeyword } from '../../firmware/dicom/registry/dictionary';
import { Tag } from '../../firmware/dicom/registry/tags';
import { ROOT, SOURCES, sourceFiles } from '../support/sources';

const REGISTRY = path.join(ROOT, 'firmware', 'dicom', 'registry', 'tags.ts');

describe('tags: one declaration each, from the registry', () => {
  it('each Tag is the dictionary’s tag of its keyword (PS3.6 Table 6-1)', () => {
    for (const [key, tag] of Object.entries(Tag)) {
      // Groups 0000 (PS3.7 Table E.1-1) and 0002 (PS3.6 Table 7-1) are not in the dictionary.
      if (tag >>> 16 === 0x0000 || tag >>> 16 === 0x0002) continue;
      const keyword = lookupTag(tag)?.keyword;
      assert.equal(keyword?.toLowerCase(), key.toLowerCase(), `${key} ${formatTag(tag)}`);
      assert.equal(tagForKeyword(keyword!), tag, key);
    }
  });

  it('no two keys of Tag name the same tag', () => {
    const byTag = new Map<number, string>();
    for (const [key, tag] of Object.entries(Tag)) {
      assert.equal(
        byTag.get(tag),
        undefined,
        `${key} and ${byTag.get(tag)} are both ${formatTag(tag)}`,
      );
      byTag.set(tag, key);
    }
  });

  it('no source outside the registry writes a tag as a number or a DICOM JSON key', () => {
    const found: string[] = [];
    for (const file of SOURCES.flatMap((d) => sourceFiles(path.join(ROOT, d)))) {
      if (file === REGISTRY) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          // 0xffffffff is the Undefined Length (PS3.5 §7.1.1), not a tag.
          const literals = line.match(/\b0x[0-9a-f]{8}\b|'[0-9a-f]{8}'/gi) ?? [];
          if (literals.some((l) => l.toLowerCase() !== '0xffffffff'))
            found.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(found, []);
  });
});
