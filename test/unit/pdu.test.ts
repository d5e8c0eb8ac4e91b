// PDU codecs (PS3.8 §9.3) against byte vectors: two captured from DCMTK 3.6.7
// (echoscu's A-ASSOCIATE-RQ, storescp's A-ASSOCIATE-AC) and hand-built ones.
import { strict as assert } from 'node:assert';
import {
  AbortReason,
  AbortSource,
  decodeAAssociateAc,
  decodeAAssociateRq,
  decodePdu,
  encodeAAbort,
  encodeAAssociateAc,
  encodeAAssociateRj,
  encodeAAssociateRq,
  encodeAReleaseRp,
  encodeAReleaseRq,
  encodePDataTf,
  pDataHeader,
  PduType,
  type AAssociateRq,
  type Pdv,
} from '../../firmware/dicom/pdu';
import { PduDecodeError } from '../../firmware/dicom/errors';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const body = (pdu: Buffer): Buffer => pdu.subarray(6);

// echoscu -aet ECHOSCU -aec ANY-SCP: note the 0xFF in a reserved byte of the
// presentation context item, which a receiver must not test (PS3.8 §9.3.1).
const DCMTK_ECHO_RQ = hex(`
0100000000cd 0001 0000 414e592d5343502020202020202020204543484f534355202020202020202020
0000000000000000000000000000000000000000000000000000000000000000
10000015 312e322e3834302e31303030382e332e312e312e31
2000002e 0100ff00 30000011 312e322e3834302e31303030382e312e31 40000011 312e322e3834302e31303030382e312e32
5000003a 51000004 00004000 5200001b 312e322e3237362e302e373233303031302e332e302e332e362e37
5500000f 4f464649535f44434d544b5f333637`);

// storescp's answer to it: context 1 accepted with Implicit VR Little Endian.
const DCMTK_ECHO_AC = hex(`
0200000000b8 0001 0000 414e592d5343502020202020202020204543484f534355202020202020202020
0000000000000000000000000000000000000000000000000000000000000000
10000015 312e322e3834302e31303030382e332e312e312e31
21000019 01000000 40000011 312e322e3834302e31303030382e312e32
5000003a 51000004 00004000 5200001b 312e322e3237362e302e373233303031302e332e302e332e362e37
5500000f 4f464649535f44434d544b5f333637`);

describe('PDU codecs (PS3.8 §9.3)', () => {
  it('decodes the A-ASSOCIATE-RQ DCMTK echoscu sends', () => {
    assert.equal(DCMTK_ECHO_RQ.readUInt32BE(2), DCMTK_ECHO_RQ.length - 6);
    const rq = decodeAAssociateRq(body(DCMTK_ECHO_RQ));
    assert.equal(rq.protocolVersion, 1);
    assert.equal(rq.calledAeTitle, 'ANY-SCP');
    assert.equal(rq.callingAeTitle, 'ECHOSCU');
    assert.equal(rq.applicationContextName, '1.2.840.10008.3.1.1.1');
    assert.deepEqual(rq.presentationContexts, [
      { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
    ]);
    assert.equal(rq.userInformation.maxLength, 16384);
    assert.equal(rq.userInformation.implementationClassUid, '1.2.276.0.7230010.3.0.3.6.7');
    assert.equal(rq.userInformation.implementationVersionName, 'OFFIS_DCMTK_367');
  });

  it('re-encodes that A-ASSOCIATE-RQ byte for byte (reserved bytes as 00)', () => {
    const rq = decodeAAssociateRq(body(DCMTK_ECHO_RQ));
    const expected = Buffer.from(DCMTK_ECHO_RQ);
    expected[expected.indexOf(hex('0100ff00'))! + 2] = 0x00;
    assert.deepEqual(encodeAAssociateRq(rq), expected);
  });

  it('decodes and re-encodes the A-ASSOCIATE-AC DCMTK storescp sends', () => {
    const ac = decodeAAssociateAc(body(DCMTK_ECHO_AC));
    assert.deepEqual(ac.presentationContexts, [
      { id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' },
    ]);
    assert.equal(ac.userInformation.maxLength, 16384);
    assert.deepEqual(encodeAAssociateAc(ac), DCMTK_ECHO_AC);
  });

  it('round-trips every user information sub-item: async window, role selection, user identity, extended negotiation', () => {
    const rq: Omit<AAssociateRq, 'type'> = {
      protocolVersion: 1,
      calledAeTitle: 'DICOM_EDGE',
      callingAeTitle: 'MODALITY',
      applicationContextName: '1.2.840.10008.3.1.1.1',
      presentationContexts: [
        {
          id: 1,
          abstractSyntax: '1.2.840.10008.5.1.4.1.1.2',
          transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
        },
        {
          id: 3,
          abstractSyntax: '1.2.840.10008.5.1.4.1.2.2.3',
          transferSyntaxes: ['1.2.840.10008.1.2.4.70'],
        },
      ],
      userInformation: {
        maxLength: 131072,
        implementationClassUid: '1.2.3.4',
        implementationVersionName: 'X',
        asyncOperationsWindow: { invoked: 5, performed: 3 },
        roleSelections: [
          { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scuRole: false, scpRole: true },
        ],
        extendedNegotiations: [
          {
            sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1',
            applicationInformation: Buffer.from([1, 1]),
          },
        ],
        commonExtendedNegotiations: [
          {
            sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
            serviceClassUid: '1.2.840.10008.4.2',
            relatedGeneralSopClassUids: ['1.2.3'],
          },
        ],
        userIdentityRq: {
          type: 2,
          positiveResponseRequested: true,
          primaryField: Buffer.from('tech'),
          secondaryField: Buffer.from('secret'),
        },
      },
    };
    const encoded = encodeAAssociateRq(rq);
    const decoded = decodePdu(encoded[0]!, body(encoded));
    assert.deepEqual(decoded, { type: PduType.AAssociateRq, ...rq });
    // The role selection sub-item as laid out in PS3.7 D.3.3.4: 54 00 LL LL, UID length, UID, SCU, SCP.
    const role = hex('5400001d 0019');
    assert.ok(
      encoded.includes(
        Buffer.concat([role, Buffer.from('1.2.840.10008.5.1.4.1.1.2'), hex('0001')]),
      ),
    );
  });

  it('round-trips the user identity server response of an A-ASSOCIATE-AC', () => {
    const ac = decodeAAssociateAc(body(DCMTK_ECHO_AC));
    const withIdentity = {
      ...ac,
      userInformation: { ...ac.userInformation, userIdentityServerResponse: Buffer.from('ok') },
    };
    const again = decodeAAssociateAc(body(encodeAAssociateAc(withIdentity)));
    assert.deepEqual(again.userInformation.userIdentityServerResponse, Buffer.from('ok'));
  });

  it('skips an unknown user information sub-item and an unknown item', () => {
    const rq = decodeAAssociateRq(body(DCMTK_ECHO_RQ));
    const encoded = encodeAAssociateRq(rq);
    // Append an unknown sub-item (type 0x5F) inside user info, and an unknown item (0x7E) after it.
    const userInfoAt = encoded.lastIndexOf(hex('5000'));
    const ui = encoded.subarray(userInfoAt);
    const unknownSub = hex('5f000003 aabbcc');
    const newUi = Buffer.concat([hex('5000'), Buffer.from([0, 0]), ui.subarray(4), unknownSub]);
    newUi.writeUInt16BE(newUi.length - 4, 2);
    const unknownItem = hex('7e000002 0102');
    const b = Buffer.concat([encoded.subarray(6, userInfoAt), newUi, unknownItem]);
    const decoded = decodeAAssociateRq(b);
    assert.deepEqual(decoded.userInformation, rq.userInformation);
  });

  it('encodes A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT as in PS3.8 Tables 9-21, 9-24, 9-25, 9-26', () => {
    assert.deepEqual(
      encodeAAssociateRj({ result: 1, source: 1, reason: 7 }),
      hex('03 00 00000004 00 01 01 07'),
    );
    assert.deepEqual(encodeAReleaseRq(), hex('05 00 00000004 00000000'));
    assert.deepEqual(encodeAReleaseRp(), hex('06 00 00000004 00000000'));
    assert.deepEqual(
      encodeAAbort({
        source: AbortSource.ServiceProvider,
        reason: AbortReason.InvalidPduParameterValue,
      }),
      hex('07 00 00000004 00 00 02 06'),
    );
    assert.deepEqual(decodePdu(0x03, hex('00 02 03 01')), {
      type: PduType.AAssociateRj,
      result: 2,
      source: 3,
      reason: 1,
    });
    assert.deepEqual(decodePdu(0x07, hex('00 00 00 00')), {
      type: PduType.AAbort,
      source: 0,
      reason: 0,
    });
  });

  it('encodes and decodes P-DATA-TF with several PDVs and the message control header bits (Annex E.2)', () => {
    const pdu = encodePDataTf([
      { contextId: 1, isCommand: true, isLast: true, data: hex('0102') },
      { contextId: 1, isCommand: false, isLast: false, data: hex('0304') },
    ]);
    assert.deepEqual(pdu, hex('04 00 00000010 00000004 01 03 0102 00000004 01 00 0304'));
    const decoded = decodePdu(0x04, body(pdu));
    assert.equal(decoded.type, PduType.PDataTf);
    if (decoded.type !== PduType.PDataTf) return;
    assert.deepEqual(
      decoded.pdvs.map((p) => [p.contextId, p.isCommand, p.isLast, p.data.toString('hex')]),
      [
        [1, true, true, '0102'],
        [1, false, false, '0304'],
      ],
    );
    assert.deepEqual(pDataHeader(5, false, true, 2), hex('04 00 00000008 00000004 05 02'));
  });

  it('decodes a P-DATA-TF body held as chunks into the same fragments, its data as views', () => {
    const items = [
      { contextId: 1, isCommand: true, isLast: true, data: hex('0102030405') },
      { contextId: 3, isCommand: false, isLast: true, data: Buffer.alloc(0) },
      { contextId: 3, isCommand: false, isLast: true, data: hex('aabbccdd') },
    ];
    const encoded = body(encodePDataTf(items));
    const whole = Buffer.alloc(encoded.length); // a memory of its own, not the pool's
    encoded.copy(whole);
    // The fragments of each item, joined; and where the item's last-fragment bit went.
    const joined = (pdvs: readonly Pdv[]): string[] => {
      const out: string[] = [];
      let data = '';
      for (const p of pdvs) {
        data += p.data.toString('hex');
        if (p.isLast || p.data.length === 0) {
          out.push(`${p.contextId} ${p.isCommand} ${p.isLast} ${data}`);
          data = '';
        }
      }
      return out;
    };
    const expected = joined(items);
    for (let a = 0; a <= whole.length; a++)
      for (let b = a; b <= whole.length; b++) {
        const parts = [whole.subarray(0, a), whole.subarray(a, b), whole.subarray(b)];
        const pdu = decodePdu(0x04, parts);
        if (pdu.type !== PduType.PDataTf) return assert.fail('not a P-DATA-TF');
        assert.deepEqual(joined(pdu.pdvs), expected, `cut at ${a}, ${b}`);
        for (const p of pdu.pdvs)
          if (p.data.length > 0) assert.equal(p.data.buffer, whole.buffer, 'a view, not a copy');
        // Only an item's last fragment carries its bit.
        assert.equal(pdu.pdvs.filter((p) => p.isLast).length, 3);
      }
    assert.throws(
      () => decodePdu(0x04, [whole.subarray(0, 3), whole.subarray(3, 8)]),
      PduDecodeError,
    );
  });

  describe('bad input', () => {
    it('rejects every truncation of the A-ASSOCIATE-RQ with PduDecodeError', () => {
      const b = body(DCMTK_ECHO_RQ);
      for (let n = 0; n < b.length; n++) {
        try {
          decodeAAssociateRq(b.subarray(0, n));
        } catch (err) {
          assert.ok(err instanceof PduDecodeError, `cut at ${n}: ${String(err)}`);
          continue;
        }
        // A cut exactly between items is a shorter but well-formed RQ; anything else must throw.
        const decoded = decodeAAssociateRq(b.subarray(0, n));
        assert.ok(n >= 68 && decoded.applicationContextName !== '', `cut at ${n} decoded`);
      }
    });

    it('rejects an item length that overruns the PDU', () => {
      const b = Buffer.from(body(DCMTK_ECHO_RQ));
      b.writeUInt16BE(0xffff, 68 + 2); // application context item length
      assert.throws(() => decodeAAssociateRq(b), PduDecodeError);
    });

    it('rejects garbage: random bytes never escape as anything but PduDecodeError', () => {
      let seed = 12345;
      const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
      for (let i = 0; i < 2000; i++) {
        const type = 1 + (i % 7);
        const g = Buffer.from(Array.from({ length: 1 + (i % 200) }, rand));
        try {
          decodePdu(type, g);
        } catch (err) {
          assert.ok(err instanceof PduDecodeError, `type ${type}: ${String(err)}`);
        }
      }
    });

    it('rejects an unknown PDU type and fixed-size PDUs of the wrong size', () => {
      assert.throws(
        () => decodePdu(0x08, Buffer.alloc(4)),
        (e: unknown) => e instanceof PduDecodeError && e.abortReason === 1,
      );
      assert.throws(() => decodePdu(0x05, Buffer.alloc(3)), PduDecodeError);
      assert.throws(() => decodePdu(0x04, hex('00000009 01 03 00')), PduDecodeError);
      assert.throws(() => decodePdu(0x04, Buffer.alloc(0)), PduDecodeError);
    });
  });
});
