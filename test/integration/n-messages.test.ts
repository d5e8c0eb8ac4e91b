// DIMSE-N (PS3.7 §10): command sets against a byte vector laid out by Table 10.3-1 and
// E.1-1, every request/response round-tripped, and the seed's N-EVENT-REPORT exchange
// (SOP class, instance, event type 1, a small data set) between our SCU and SCP.
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import type { AssociationInfo } from '../../firmware/dicom/acse';
import { Association } from '../../firmware/dicom/association';
import { tcpConnector } from '../../firmware/dicom/transport';
import { parseDataset } from '../../firmware/dicom/dataset/dataset-parser';
import { encodeDataset } from '../../firmware/dicom/dataset/dataset-writer';
import { CommandField } from '../../firmware/dicom/dimse/command-field';
import { decodeCommandSet, encodeCommandSet } from '../../firmware/dicom/dimse/command-set';
import { DimseRequestor } from '../../firmware/dicom/dimse/dimse-requestor';
import {
  nActionRq,
  nCreateRq,
  nDeleteRq,
  nEventReportRq,
  nGetRq,
  nResponse,
  nSetRq,
} from '../../firmware/dicom/dimse/n-messages';
import { Status } from '../../firmware/dicom/dimse/status';
import { serveAssociation } from '../../firmware/services/association-handler';
import { respond } from '../../firmware/services/service';
import { freePort } from '../support/peers';

const SC = '1.2.840.10008.5.1.4.1.1.7';
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

describe('DIMSE-N messages', () => {
  it('encodes an N-EVENT-REPORT-RQ as PS3.7 Table 10.3-1 lays it out', () => {
    const encoded = encodeCommandSet({ ...nEventReportRq(SC, '1.2.3.4', 1, 7), hasDataSet: true });
    const expected = hex(`
      00000000 04000000 5a000000
      00000200 1a000000 ${Buffer.from(`${SC}\0`).toString('hex')}
      00000001 02000000 0001
      00001001 02000000 0700
      00000008 02000000 0000
      00000010 08000000 ${Buffer.from('1.2.3.4\0').toString('hex')}
      00000210 02000000 0100`);
    assert.deepEqual(encoded, expected);
  });

  it('round-trips every N request and its response', () => {
    const requests = [
      nEventReportRq(SC, '1.2.3', 2, 1),
      nGetRq(SC, '1.2.3', 2, [0x00100010, 0x00100020]),
      nSetRq(SC, '1.2.3', 3),
      nActionRq('1.2.840.10008.1.20.1', '1.2.840.10008.1.20.1.1', 1, 4),
      nCreateRq(SC, 5, '1.2.3'),
      nDeleteRq(SC, '1.2.3', 6),
    ];
    for (const rq of requests) {
      const command = { ...rq, hasDataSet: false };
      assert.deepEqual(decodeCommandSet(encodeCommandSet(command)), command);
      const rsp = { ...nResponse(command, Status.Success), hasDataSet: false };
      const decoded = decodeCommandSet(encodeCommandSet(rsp));
      assert.equal(decoded.commandField, rq.commandField | 0x8000);
      assert.equal(decoded.messageIdBeingRespondedTo, rq.messageId);
      assert.equal(
        decoded.affectedSopInstanceUid,
        rq.affectedSopInstanceUid ?? rq.requestedSopInstanceUid,
      );
      assert.deepEqual(decoded, rsp);
    }
  });

  it("carries the seed's N-EVENT-REPORT from our SCU to our SCP", async () => {
    const port = await freePort();
    const received: Array<{ eventTypeId?: number; patientName: string }> = [];
    const server = net.createServer((socket) => {
      const a = Association.accept(socket, {
        maxPduLength: 16384,
        artimMs: 5000,
        decide: (rq) => ({
          accept: true,
          presentationContexts: rq.presentationContexts.map((pc) => ({
            id: pc.id,
            result: 0,
            transferSyntax: pc.transferSyntaxes[0]!,
          })),
        }),
      });
      a.on('established', (info: AssociationInfo) =>
        serveAssociation(
          Object.assign(a, { info }),
          info,
          new Map([
            [
              CommandField.NEventReportRq,
              async (message, ctx) => {
                const chunks: Buffer[] = [];
                for await (const c of message.dataset!) chunks.push(c as Buffer);
                const elements = parseDataset(Buffer.concat(chunks), EXPLICIT_LE);
                received.push({
                  ...(message.command.eventTypeId !== undefined
                    ? { eventTypeId: message.command.eventTypeId }
                    : {}),
                  patientName: (elements[0]!.value as Buffer).toString().trim(),
                });
                await respond(ctx, message, nResponse(message.command, Status.Success));
              },
            ],
          ]),
        ),
      );
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const association = await Association.request({
        connect: tcpConnector('127.0.0.1', port),
        callingAeTitle: 'REPORTER',
        calledAeTitle: 'LISTENER',
        maxPduLength: 16384,
        artimMs: 5000,
        presentationContexts: [
          { id: 1, abstractSyntax: SC, transferSyntaxes: ['1.2.840.10008.1.2.1'] },
        ],
      });
      const requestor = new DimseRequestor(association);
      const rsp = await requestor.request(
        1,
        nEventReportRq(SC, '1.2.3.4.5', 1, 0),
        encodeDataset([{ tag: 0x00100010, vr: 'PN', value: 'SEED^EXCHANGE' }], EXPLICIT_LE),
      );
      await association.release();
      assert.equal(rsp.command.status, Status.Success);
      assert.equal(rsp.command.commandField, CommandField.NEventReportRsp);
      assert.equal(rsp.command.eventTypeId, 1);
      assert.equal(rsp.command.affectedSopClassUid, SC);
      assert.equal(rsp.command.affectedSopInstanceUid, '1.2.3.4.5');
      assert.deepEqual(received, [{ eventTypeId: 1, patientName: 'SEED^EXCHANGE' }]);
    } finally {
      server.close();
    }
  });
});
