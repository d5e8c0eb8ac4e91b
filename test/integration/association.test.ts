// The upper layer end to end over real sockets: A-ASSOCIATE-RJ results/sources/reasons
// (PS3.8 Table 9-21), release collision (Sta9-Sta12), and PDV fragmentation within the
// peer's maximum length.
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import * as path from 'node:path';
import { Association } from '../../firmware/dicom/association';
import { tcpConnector } from '../../firmware/dicom/transport';
import { AssociationRejectedError } from '../../firmware/dicom/errors';
import {
  PduType,
  RejectReason,
  RejectResult,
  RejectSource,
  type AAssociateRq,
} from '../../firmware/dicom/pdu';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../firmware/dicom/registry/transfer-syntaxes';
import { VERIFICATION_SOP_CLASS } from '../../firmware/dicom/registry/uid';
import { echo } from '../../firmware/services/echo-scu';
import { storeFiles } from '../../firmware/services/store-scu';
import { datasetBytes, freePort, startBox, tempDir, type TestBox } from '../support/peers';
import { associateRq, rawExchange } from '../support/raw-peer';
import { uid, writeSyntheticFile } from '../support/synthetic';
import type { Config } from '../../firmware/config/config';

function echoFrom(
  box: TestBox,
  callingAeTitle: string,
  calledAeTitle = 'DICOM_EDGE',
): Promise<number> {
  return echo({ host: '127.0.0.1', port: box.port, callingAeTitle, calledAeTitle });
}

async function rejectionOf(
  box: TestBox,
  callingAeTitle: string,
  calledAeTitle: string,
): Promise<AssociationRejectedError> {
  try {
    await echoFrom(box, callingAeTitle, calledAeTitle);
  } catch (err) {
    assert.ok(err instanceof AssociationRejectedError, String(err));
    return err;
  }
  assert.fail('the association was accepted');
}

describe('association negotiation and release', function () {
  this.timeout(30_000);
  const boxes: TestBox[] = [];
  async function box(overrides: Partial<Config> = {}): Promise<TestBox> {
    const b = await startBox(overrides);
    boxes.push(b);
    return b;
  }
  afterEach(async () => {
    await Promise.all(boxes.splice(0).map((b) => b.stop()));
  });

  it('accepts any called AE title by default (lenient)', async () => {
    const b = await box();
    assert.equal(await echoFrom(b, 'A', 'WHATEVER'), 0);
  });

  it('rejects a called AE title that is not ours with strictCalledAe: permanent, service user, reason 7', async () => {
    const b = await box({ strictCalledAe: true });
    const e = await rejectionOf(b, 'MODALITY', 'SOMEONE_ELSE');
    assert.deepEqual(
      [e.result, e.source, e.reason],
      [RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized],
    );
    assert.equal(await echoFrom(b, 'MODALITY', 'DICOM_EDGE'), 0);
  });

  it('with acceptUnknownCallers false, rejects callers not in nodes (reason 3) and accepts listed ones', async () => {
    const b = await box({
      acceptUnknownCallers: false,
      nodes: [{ name: 'ct', ae: 'CT_SCANNER', host: '127.0.0.1', port: 104, forward: false }],
    });
    const e = await rejectionOf(b, 'STRANGER', 'DICOM_EDGE');
    assert.deepEqual([e.result, e.source, e.reason], [1, 1, RejectReason.CallingAeNotRecognized]);
    assert.equal(await echoFrom(b, 'CT_SCANNER', 'DICOM_EDGE'), 0);
  });

  it('rejects a known AE title calling from another address than its node says', async () => {
    const b = await box({
      acceptUnknownCallers: false,
      nodes: [{ name: 'ct', ae: 'CT_SCANNER', host: '10.9.9.9', port: 104, forward: false }],
    });
    const e = await rejectionOf(b, 'CT_SCANNER', 'DICOM_EDGE');
    assert.equal(e.reason, RejectReason.CallingAeNotRecognized);
  });

  it('rejects beyond maxAssociations: transient, presentation provider, local limit exceeded', async () => {
    const b = await box({ maxAssociations: 1 });
    const held = await Association.request({
      connect: tcpConnector('127.0.0.1', b.port),
      callingAeTitle: 'FIRST',
      calledAeTitle: 'DICOM_EDGE',
      maxPduLength: 16384,
      artimMs: 5000,
      presentationContexts: [
        {
          id: 1,
          abstractSyntax: VERIFICATION_SOP_CLASS,
          transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
        },
      ],
    });
    const e = await rejectionOf(b, 'SECOND', 'DICOM_EDGE');
    assert.deepEqual(
      [e.result, e.source, e.reason, e.transient],
      [2, 3, RejectReason.LocalLimitExceeded, true],
    );
    await held.release();
    assert.equal(await echoFrom(b, 'THIRD', 'DICOM_EDGE'), 0);
  });

  it('rejects an unsupported protocol version (provider ACSE, reason 2) and application context (user, reason 2)', async () => {
    const b = await box();
    const ctx = [
      {
        id: 1,
        abstractSyntax: VERIFICATION_SOP_CLASS,
        transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
      },
    ];
    const v0 = associateRq(ctx);
    v0.writeUInt16BE(0x0002, 6); // protocol version without bit 0
    const r1 = await rawExchange(b.port, [v0]);
    assert.deepEqual(r1.pdus, [{ type: PduType.AAssociateRj, result: 1, source: 2, reason: 2 }]);
    const badContext = Buffer.from(
      associateRq(ctx).toString('latin1').replace('1.2.840.10008.3.1.1.1', '1.2.840.10008.3.1.1.9'),
      'latin1',
    );
    const r2 = await rawExchange(b.port, [badContext]);
    assert.deepEqual(r2.pdus, [{ type: PduType.AAssociateRj, result: 1, source: 1, reason: 2 }]);
  });

  it('answers contexts it does not support with abstract-syntax-not-supported and still accepts the rest', async () => {
    const b = await box();
    const r = await rawExchange(b.port, [
      associateRq([
        { id: 1, abstractSyntax: '1.2.3.4.5.6', transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] },
        {
          id: 3,
          abstractSyntax: VERIFICATION_SOP_CLASS,
          transferSyntaxes: ['1.2.840.10008.1.2', EXPLICIT_VR_LITTLE_ENDIAN],
        },
      ]),
    ]);
    const ac = r.pdus[0];
    assert.equal(ac?.type, PduType.AAssociateAc);
    if (ac?.type !== PduType.AAssociateAc) return;
    assert.deepEqual(ac.presentationContexts, [
      { id: 1, result: 3, transferSyntax: '' },
      { id: 3, result: 0, transferSyntax: EXPLICIT_VR_LITTLE_ENDIAN },
    ]);
  });

  it('resolves a release collision: both sides ask at once and both end released (Sta9-Sta12)', async () => {
    const port = await freePort();
    let acceptor: Association | undefined;
    const server = net.createServer((socket) => {
      acceptor = Association.accept(socket, {
        maxPduLength: 16384,
        artimMs: 5000,
        decide: (rq: AAssociateRq) => ({
          accept: true,
          presentationContexts: rq.presentationContexts.map((pc) => ({
            id: pc.id,
            result: 0,
            transferSyntax: pc.transferSyntaxes[0]!,
          })),
        }),
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const requestor = await Association.request({
        connect: tcpConnector('127.0.0.1', port),
        callingAeTitle: 'A',
        calledAeTitle: 'B',
        maxPduLength: 16384,
        artimMs: 5000,
        presentationContexts: [
          {
            id: 1,
            abstractSyntax: VERIFICATION_SOP_CLASS,
            transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
          },
        ],
      });
      while (acceptor?.state !== 'Sta6') await new Promise((r) => setTimeout(r, 5));
      const acceptorSide = acceptor;
      acceptorSide.on('release-requested', () => acceptorSide.respondRelease());
      await Promise.all([requestor.release(), acceptorSide.release()]);
      assert.equal((await requestor.closed()).kind, 'released');
      assert.equal((await acceptorSide.closed()).kind, 'released');
    } finally {
      server.close();
    }
  });

  it('fragments a data set into PDVs within a small maximum length (4096) and reassembles it', async () => {
    const b = await box({ maxPduLength: 4096 });
    const dir = tempDir('frag');
    const file = path.join(dir, 'x.dcm');
    await writeSyntheticFile(file, {
      studyUid: uid(60),
      seriesUid: uid(60, 1),
      sopInstanceUid: uid(60, 1, 1),
      rows: 128,
      columns: 128,
    });
    const [r] = await storeFiles(
      { host: '127.0.0.1', port: b.port, callingAeTitle: 'T', calledAeTitle: 'DICOM_EDGE' },
      [file],
      () => undefined,
    );
    assert.equal(r?.status, 0);
    const row = await b.archive.instance(uid(60, 1, 1));
    assert.deepEqual(
      await datasetBytes(path.join(b.config.storageDir, row!.path)),
      await datasetBytes(file),
    );
  });
});
