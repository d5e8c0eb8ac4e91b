// Promise 4 against connections that never associate (a port scanner, a half-broken
// device) and associations that go silent: they cost a bounded, short-lived budget of
// their own and never lock a real modality out.
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { Association } from '../../firmware/dicom/association';
import { tcpConnector } from '../../firmware/dicom/transport';
import { CommandField } from '../../firmware/dicom/dimse/command-field';
import { DimseRequestor } from '../../firmware/dicom/dimse/dimse-requestor';
import { Status } from '../../firmware/dicom/dimse/status';
import { PduType } from '../../firmware/dicom/pdu';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../firmware/dicom/registry/transfer-syntaxes';
import { run, startBox, tempDir, type TestBox, storescu } from '../support/peers';
import { associateRq, rawExchange } from '../support/raw-peer';
import { CT_IMAGE_STORAGE, syntheticDataset, uid, writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';

const CT_CONTEXT = {
  id: 1,
  abstractSyntax: CT_IMAGE_STORAGE,
  transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
};

/** A TCP connection that says nothing; `closed` turns true when the box closes it. */
interface Silent {
  readonly socket: net.Socket;
  closed: boolean;
}

async function silentConnections(port: number, count: number, from: string): Promise<Silent[]> {
  const out: Silent[] = [];
  for (let i = 0; i < count; i++) {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
    const s: Silent = { socket, closed: false };
    socket.on('close', () => (s.closed = true));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    out.push(s);
  }
  return out;
}

describe('connections that do not associate, and associations that go silent', function () {
  this.timeout(60_000);
  let box: TestBox | undefined;
  const sockets: Silent[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.socket.destroy();
    await box?.stop();
    box = undefined;
  });

  it('100 silent connections from one address do not keep a real storescu (or echoscu) out', async () => {
    // Fewer association slots than silent connections: before, each connection took one.
    box = await startBox({ maxAssociations: 4 });
    sockets.push(...(await silentConnections(box.port, 100, '127.0.0.2')));
    const files = await writeSyntheticStudy(tempDir('scan'), 300, 5);
    await storescu(box.port, files);
    const echo = await run('echoscu', ['-aec', 'DICOM_EDGE', '127.0.0.1', String(box.port)]);
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal((await box.archive.counts()).instances, 5);
    // The scanner's address keeps at most its own budget; the oldest gave way.
    await waitFor(
      'the box closed all but 8',
      async () => sockets.filter((s) => !s.closed).length === 8,
    );
    assert.deepEqual(
      sockets.map((s, i) => (s.closed ? -1 : i)).filter((i) => i >= 0),
      [92, 93, 94, 95, 96, 97, 98, 99],
    );
  });

  it('when the whole budget is spent the oldest waiting connection, whatever its address, gives way', async () => {
    box = await startBox({ maxUnassociated: 3, maxUnassociatedPerAddress: 3 });
    for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'])
      sockets.push(...(await silentConnections(box.port, 1, from)));
    await waitFor('the first closed', async () => sockets[0]!.closed);
    assert.deepEqual(
      sockets.map((s) => s.closed),
      [true, false, false, false],
    );
  });

  it('a connection that sends no A-ASSOCIATE-RQ is closed after associateTimeout', async () => {
    box = await startBox({ associateTimeout: 0.5, artimTimeout: 30 });
    const started = Date.now();
    const r = await rawExchange(box.port, [], 10_000);
    assert.ok(r.closedByPeer);
    assert.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);
  });

  it('an association silent for idleTimeout with nothing under way is aborted', async () => {
    box = await startBox({ idleTimeout: 0.5 });
    const r = await rawExchange(box.port, [associateRq([CT_CONTEXT])], 10_000);
    assert.deepEqual(
      r.pdus.map((p) => p.type),
      [PduType.AAssociateAc, PduType.AAbort],
    );
  });

  it('a slow but working association is not cut by the idle timer', async () => {
    box = await startBox({ idleTimeout: 1 });
    const association = await Association.request({
      connect: tcpConnector('127.0.0.1', box.port),
      callingAeTitle: 'SLOW',
      calledAeTitle: 'DICOM_EDGE',
      maxPduLength: 16384,
      artimMs: 5000,
      presentationContexts: [CT_CONTEXT],
    });
    const requestor = new DimseRequestor(association);
    // A pause of 0.6 s before each of four instances: 2.4 s in all, never 1 s of silence.
    for (let i = 1; i <= 4; i++) {
      await new Promise((r) => setTimeout(r, 600));
      const rsp = await requestor.request(
        1,
        {
          commandField: CommandField.CStoreRq,
          affectedSopClassUid: CT_IMAGE_STORAGE,
          affectedSopInstanceUid: uid(301, 1, i),
          priority: 0,
        },
        syntheticDataset({
          studyUid: uid(301),
          seriesUid: uid(301, 1),
          sopInstanceUid: uid(301, 1, i),
        }),
      );
      assert.equal(rsp.command.status, Status.Success);
    }
    await association.release();
  });
});
