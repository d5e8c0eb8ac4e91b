// Presentation context negotiation as acceptor (PS3.8 §9.3.3.2).
import { strict as assert } from 'node:assert';
import { chooseTransferSyntax, negotiateContexts } from '../../firmware/dicom/negotiation';
import {
  isStorageSopClass,
  STORAGE_SOP_CLASSES,
} from '../../firmware/dicom/registry/storage-sop-classes';

const IMPLICIT = '1.2.840.10008.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const BIG = '1.2.840.10008.1.2.2';
const JPEG_SV1 = '1.2.840.10008.1.2.4.70';

describe('presentation context negotiation', () => {
  it('prefers Explicit VR LE over Implicit VR LE and BE when both are offered', () => {
    assert.equal(chooseTransferSyntax([IMPLICIT, EXPLICIT]), EXPLICIT);
    assert.equal(chooseTransferSyntax([BIG, IMPLICIT, EXPLICIT]), EXPLICIT);
    assert.equal(chooseTransferSyntax([IMPLICIT]), IMPLICIT);
  });

  it('keeps an encapsulated syntax the requestor put first (pass-through)', () => {
    assert.equal(chooseTransferSyntax([JPEG_SV1, EXPLICIT]), JPEG_SV1);
  });

  it('skips syntaxes it does not know and refuses when none is left', () => {
    assert.equal(chooseTransferSyntax(['1.2.3.4.5', IMPLICIT]), IMPLICIT);
    assert.equal(chooseTransferSyntax(['1.2.3.4.5']), undefined);
  });

  it('answers each context: accepted, abstract syntax not supported (3), transfer syntaxes not supported (4)', () => {
    const result = negotiateContexts(
      [
        {
          id: 1,
          abstractSyntax: '1.2.840.10008.5.1.4.1.1.2',
          transferSyntaxes: [IMPLICIT, EXPLICIT],
        },
        { id: 3, abstractSyntax: '1.2.3.4.private', transferSyntaxes: [IMPLICIT] },
        { id: 5, abstractSyntax: '1.2.840.10008.5.1.4.1.1.4', transferSyntaxes: ['1.9.9'] },
      ],
      isStorageSopClass,
    );
    assert.deepEqual(result, [
      { id: 1, result: 0, transferSyntax: EXPLICIT },
      { id: 3, result: 3, transferSyntax: '' },
      { id: 5, result: 4, transferSyntax: '' },
    ]);
  });

  it('knows the storage SOP classes of PS3.4 Table B.5-1 (spot checks)', () => {
    assert.ok(STORAGE_SOP_CLASSES.size > 180);
    for (const uid of [
      '1.2.840.10008.5.1.4.1.1.2', // CT
      '1.2.840.10008.5.1.4.1.1.1.2', // Digital Mammography For Presentation
      '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
      '1.2.840.10008.5.1.4.1.1.104.1', // Encapsulated PDF
      '1.2.840.10008.5.1.4.1.1.77.1.6', // VL Whole Slide Microscopy
      '1.2.840.10008.5.1.4.1.1.481.5', // RT Plan
    ]) {
      assert.ok(isStorageSopClass(uid), uid);
    }
    assert.equal(isStorageSopClass('1.2.840.10008.1.1'), false);
  });
});
