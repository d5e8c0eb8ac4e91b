// Presentation context negotiation as acceptor (PS3.8 §9.3.3.2), and the asynchronous
// operations window both sides agree on (PS3.7 D.3.3.3).
import { strict as assert } from 'node:assert';
import { answerRq, associateRq, operationsWindow, windowAnswer } from '../../firmware/dicom/acse';
import type { AAssociateAc } from '../../firmware/dicom/pdu';
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

describe('asynchronous operations window negotiation (PS3.7 D.3.3.3)', () => {
  const rq = (window?: { invoked: number; performed: number }) =>
    associateRq(
      {
        callingAeTitle: 'BOX',
        calledAeTitle: 'PACS',
        presentationContexts: [],
        ...(window ? { asyncOperationsWindow: window } : {}),
      },
      16384,
    );
  /** What a requestor proposing `proposed` and an acceptor answering `granted` agreed. */
  const agreed = (
    proposed: { invoked: number; performed: number } | undefined,
    granted: { invoked: number; performed: number } | undefined,
  ) => {
    const request = rq(proposed);
    const decide = () => ({
      accept: true as const,
      presentationContexts: [],
      ...(granted ? { asyncOperationsWindow: granted } : {}),
    });
    const ac = answerRq(request, decide, { address: '127.0.0.1', port: 1 }, 16384);
    return { rq: request, ac: ac as AAssociateAc };
  };

  it('an acceptor grants the smaller of what was proposed and what it can do, 0 being unlimited', () => {
    assert.deepEqual(
      windowAnswer(rq({ invoked: 8, performed: 1 }), { canPerform: 4, willInvoke: 1 }),
      {
        invoked: 4,
        performed: 1,
      },
    );
    assert.deepEqual(
      windowAnswer(rq({ invoked: 0, performed: 0 }), { canPerform: 16, willInvoke: 2 }),
      {
        invoked: 16,
        performed: 2,
      },
    );
    assert.deepEqual(
      windowAnswer(rq({ invoked: 8, performed: 1 }), { canPerform: 0, willInvoke: 1 }),
      {
        invoked: 8,
        performed: 1,
      },
    );
    assert.equal(windowAnswer(rq(), { canPerform: 4, willInvoke: 1 }), undefined);
  });

  it('its answer goes into the A-ASSOCIATE-AC, and is absent when it grants none', () => {
    const decide = (window?: { invoked: number; performed: number }) => () => ({
      accept: true as const,
      presentationContexts: [],
      ...(window ? { asyncOperationsWindow: window } : {}),
    });
    const peer = { address: '127.0.0.1', port: 1 };
    const ac = answerRq(
      rq({ invoked: 8, performed: 1 }),
      decide({ invoked: 4, performed: 1 }),
      peer,
      16384,
    );
    assert.deepEqual((ac as AAssociateAc).userInformation.asyncOperationsWindow, {
      invoked: 4,
      performed: 1,
    });
    const plain = answerRq(rq({ invoked: 8, performed: 1 }), decide(), peer, 16384);
    assert.equal((plain as AAssociateAc).userInformation.asyncOperationsWindow, undefined);
  });

  it('a requestor keeps as many outstanding as granted, at most what it proposed; one without the item', () => {
    assert.equal(
      operationsWindow(agreed({ invoked: 8, performed: 1 }, { invoked: 4, performed: 1 })),
      4,
    );
    assert.equal(
      operationsWindow(agreed({ invoked: 8, performed: 1 }, { invoked: 0, performed: 1 })),
      8,
    );
    assert.equal(
      operationsWindow(agreed({ invoked: 8, performed: 1 }, { invoked: 20, performed: 1 })),
      8,
    );
    assert.equal(
      operationsWindow(agreed({ invoked: 8, performed: 1 }, undefined)),
      1,
      'storescp, Orthanc',
    );
    assert.equal(operationsWindow(agreed(undefined, { invoked: 4, performed: 1 })), 1);
  });
});
