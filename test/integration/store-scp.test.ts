// The box as C-STORE SCP, driven by our own SCU and by a rude raw-socket peer.
// Every case checks what the standard says the peer should get back, and that nothing
// partial is left in the cache, the temp dir or the index.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Association } from '../../firmware/dicom/association';
import { tcpConnector } from '../../firmware/dicom/transport';
import { CommandField } from '../../firmware/dicom/dimse/command-field';
import { DimseRequestor } from '../../firmware/dicom/dimse/dimse-requestor';
import { Status } from '../../firmware/dicom/dimse/status';
import {
  PduType,
  AbortSource,
  encodePDataTf,
  encodeAReleaseRq,
  type Pdu,
} from '../../firmware/dicom/pdu';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../firmware/dicom/registry/transfer-syntaxes';
import { echo } from '../../firmware/services/echo-scu';
import { storeFiles } from '../../firmware/services/store-scu';
import { TempFile } from '../../storage/cache';
import {
  datasetBytes,
  listFiles,
  partialTemps,
  startBox,
  tempDir,
  type TestBox,
} from '../support/peers';
import { associateRq, rawExchange } from '../support/raw-peer';
import { CT_IMAGE_STORAGE, syntheticDataset, uid, writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';

const CT_CONTEXT = {
  id: 1,
  abstractSyntax: CT_IMAGE_STORAGE,
  transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
};

function makeFiles(dir: string, study: number, count: number, size = 64): Promise<string[]> {
  return writeSyntheticStudy(dir, study, count, { rows: size, columns: size });
}

function peerOf(box: TestBox): {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
} {
  return {
    host: '127.0.0.1',
    port: box.port,
    callingAeTitle: 'TESTSCU',
    calledAeTitle: box.config.ae,
  };
}

async function cacheState(
  box: TestBox,
): Promise<{ files: number; temps: number; instances: number }> {
  const files = (await listFiles(path.join(box.config.storageDir, 'cache'))).length;
  const temps = await partialTemps(box.config.storageDir);
  const { instances } = await box.archive.counts();
  return { files, temps, instances };
}

/** Opens an association with our own requestor, for DIMSE-level abuse. */
async function openCt(
  box: TestBox,
): Promise<{ association: Association; requestor: DimseRequestor }> {
  const association = await Association.request({
    connect: tcpConnector('127.0.0.1', box.port),
    callingAeTitle: 'TESTSCU',
    calledAeTitle: 'DICOM_EDGE',
    maxPduLength: 16384,
    artimMs: 5000,
    presentationContexts: [CT_CONTEXT],
  });
  return { association, requestor: new DimseRequestor(association) };
}

describe('C-STORE SCP', function () {
  this.timeout(60_000);
  let box: TestBox;
  let dir: string;

  beforeEach(async () => {
    box = await startBox();
    dir = tempDir('files');
  });
  afterEach(async () => {
    await box.stop();
  });

  it('answers C-ECHO with Success (our echo SCU)', async () => {
    assert.equal(await echo(peerOf(box)), Status.Success);
  });

  it('stores what our store SCU sends, byte-identical in data set, and indexes it', async () => {
    const files = await makeFiles(dir, 1, 5);
    const results = await storeFiles(peerOf(box), files, () => undefined);
    assert.deepEqual(
      results.map((r) => r.status),
      [0, 0, 0, 0, 0],
    );
    for (let i = 0; i < files.length; i++) {
      const row = await box.archive.instance(uid(1, 1, i + 1));
      assert.ok(row, 'indexed');
      assert.equal(row.patientName, 'TEST^PATIENT');
      assert.equal(row.studyInstanceUid, uid(1));
      const cached = await datasetBytes(path.join(box.config.storageDir, row.path));
      assert.deepEqual(cached, await datasetBytes(files[i]!));
    }
    assert.deepEqual(await cacheState(box), { files: 5, temps: 0, instances: 5 });
  });

  it('keeps one copy when the same SOP Instance UID comes again (the extra file goes after the ack)', async () => {
    const [f] = await makeFiles(dir, 2, 1);
    await storeFiles(peerOf(box), [f!], () => undefined);
    await storeFiles(peerOf(box), [f!], () => undefined);
    const one = JSON.stringify({ files: 1, temps: 0, instances: 1 });
    await waitFor('one file left', async () => JSON.stringify(await cacheState(box)) === one);
  });

  it('serves several associations storing at once', async () => {
    const sets = await Promise.all([1, 2, 3, 4, 5, 6].map((s) => makeFiles(dir, 10 + s, 8)));
    const results = await Promise.all(
      sets.map((files) => storeFiles(peerOf(box), files, () => undefined)),
    );
    assert.ok(results.flat().every((r) => r.status === Status.Success));
    assert.deepEqual(await cacheState(box), { files: 48, temps: 0, instances: 48 });
  });

  describe('bad input: the standard answer, nothing partial, and the box keeps serving', () => {
    it('aborts on garbage bytes (unrecognized PDU) while another association stores', async () => {
      const files = await makeFiles(dir, 20, 10);
      const [rude, good] = await Promise.all([
        rawExchange(box.port, [Buffer.from('GET / HTTP/1.1\r\nHost: box\r\n\r\n')]),
        storeFiles(peerOf(box), files, () => undefined),
      ]);
      assert.deepEqual(rude.pdus, [
        { type: PduType.AAbort, source: AbortSource.ServiceProvider, reason: 1 },
      ]);
      assert.ok(good.every((r) => r.status === Status.Success));
    });

    it('aborts a PDU whose length exceeds the maximum announced, without allocating it', async () => {
      const oversized = Buffer.from([0x04, 0, 0x7f, 0xff, 0xff, 0xff]);
      const r = await rawExchange(box.port, [associateRq([CT_CONTEXT]), oversized]);
      assert.equal(r.pdus[0]?.type, PduType.AAssociateAc);
      assert.deepEqual(r.pdus[1], {
        type: PduType.AAbort,
        source: AbortSource.ServiceProvider,
        reason: 6,
      });
    });

    it('aborts PDUs out of order: P-DATA before A-ASSOCIATE-RQ (AA-1), a second RQ (AA-8)', async () => {
      const pdata = encodePDataTf([
        { contextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(4) },
      ]);
      const early = await rawExchange(box.port, [pdata]);
      assert.deepEqual(early.pdus, [
        { type: PduType.AAbort, source: AbortSource.ServiceProvider, reason: 2 },
      ]);
      const twice = await rawExchange(box.port, [
        associateRq([CT_CONTEXT]),
        associateRq([CT_CONTEXT]),
      ]);
      assert.equal(twice.pdus[0]?.type, PduType.AAssociateAc);
      assert.deepEqual(twice.pdus[1], {
        type: PduType.AAbort,
        source: AbortSource.ServiceProvider,
        reason: 2,
      });
    });

    it('closes a connection that sends a truncated A-ASSOCIATE-RQ and then nothing (ARTIM)', async () => {
      const rq = associateRq([CT_CONTEXT]);
      const r = await rawExchange(box.port, [rq.subarray(0, 40)], 5000);
      assert.ok(r.closedByPeer, 'the ARTIM timer closed the connection');
      assert.deepEqual(r.pdus, []);
    });

    it('releases cleanly after a raw A-RELEASE-RQ', async () => {
      const r = await rawExchange(box.port, [associateRq([CT_CONTEXT]), encodeAReleaseRq()]);
      assert.deepEqual(
        r.pdus.map((p: Pdu) => p.type),
        [PduType.AAssociateAc, PduType.AReleaseRp],
      );
    });

    it('answers a data set cut mid-element with a C000-range failure and stores nothing', async () => {
      const { association, requestor } = await openCt(box);
      const full = syntheticDataset({
        studyUid: uid(30),
        seriesUid: uid(30, 1),
        sopInstanceUid: uid(30, 1, 1),
      });
      const rsp = await requestor.request(
        1,
        {
          commandField: CommandField.CStoreRq,
          affectedSopClassUid: CT_IMAGE_STORAGE,
          affectedSopInstanceUid: uid(30, 1, 1),
          priority: 0,
        },
        full.subarray(0, full.length - 101),
      );
      assert.equal(rsp.command.status! & 0xf000, 0xc000);
      assert.match(rsp.command.errorComment ?? '', /ends inside/);
      // The association goes on: a good instance on it is stored.
      const ok = await requestor.request(
        1,
        {
          commandField: CommandField.CStoreRq,
          affectedSopClassUid: CT_IMAGE_STORAGE,
          affectedSopInstanceUid: uid(30, 1, 2),
          priority: 0,
        },
        syntheticDataset({
          studyUid: uid(30),
          seriesUid: uid(30, 1),
          sopInstanceUid: uid(30, 1, 2),
        }),
      );
      assert.equal(ok.command.status, Status.Success);
      await association.release();
      assert.deepEqual(await cacheState(box), { files: 1, temps: 0, instances: 1 });
    });

    it('refuses an invalid UID in the command (C000) or in the data set (A900); nothing is stored', async () => {
      const { association, requestor } = await openCt(box);
      const bad = await requestor.request(
        1,
        {
          commandField: CommandField.CStoreRq,
          affectedSopClassUid: CT_IMAGE_STORAGE,
          affectedSopInstanceUid: '1.2.x/../../etc',
          priority: 0,
        },
        syntheticDataset({
          studyUid: uid(31),
          seriesUid: uid(31, 1),
          sopInstanceUid: '1.2.x/../../etc',
        }),
      );
      assert.equal(bad.command.status, Status.CannotUnderstand);
      const badStudy = await requestor.request(
        1,
        {
          commandField: CommandField.CStoreRq,
          affectedSopClassUid: CT_IMAGE_STORAGE,
          affectedSopInstanceUid: uid(31, 1, 1),
          priority: 0,
        },
        syntheticDataset({
          studyUid: '../../../tmp',
          seriesUid: uid(31, 1),
          sopInstanceUid: uid(31, 1, 1),
        }),
      );
      assert.equal(badStudy.command.status, Status.DataSetDoesNotMatchSopClass);
      assert.match(badStudy.command.errorComment ?? '', /not a valid UID/);
      await association.release();
      assert.deepEqual(await cacheState(box), { files: 0, temps: 0, instances: 0 });
    });

    it("refuses a C-STORE whose SOP class is not its context's (0122)", async () => {
      const { association, requestor } = await openCt(box);
      const rsp = await requestor.request(
        1,
        {
          commandField: CommandField.CStoreRq,
          affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.4',
          affectedSopInstanceUid: uid(32, 1, 1),
          priority: 0,
        },
        syntheticDataset({
          studyUid: uid(32),
          seriesUid: uid(32, 1),
          sopInstanceUid: uid(32, 1, 1),
        }),
      );
      assert.equal(rsp.command.status, Status.SopClassNotSupported);
      await association.release();
    });

    it('leaves nothing behind when the peer aborts in the middle of a data set', async () => {
      const { association } = await openCt(box);
      const data = syntheticDataset({
        studyUid: uid(33),
        seriesUid: uid(33, 1),
        sopInstanceUid: uid(33, 1, 1),
        rows: 256,
        columns: 256,
      });
      const channel = new DimseRequestor(association).channel;
      async function* halfThenStop(): AsyncGenerator<Buffer> {
        yield data.subarray(0, data.length / 2);
        association.abort();
        await new Promise((r) => setTimeout(r, 500));
      }
      await channel
        .send(
          1,
          {
            commandField: CommandField.CStoreRq,
            messageId: 1,
            affectedSopClassUid: CT_IMAGE_STORAGE,
            affectedSopInstanceUid: uid(33, 1, 1),
            hasDataSet: true,
          },
          halfThenStop(),
        )
        .catch(() => undefined);
      await association.closed();
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await cacheState(box), { files: 0, temps: 0, instances: 0 });
      assert.equal(await echo(peerOf(box)), Status.Success);
    });

    it('answers A700 when the disk is full, removes the temp file, and goes on', async () => {
      const cache = box.archive.cache;
      const realCreate = cache.createTemp.bind(cache);
      let failNext = true;
      cache.createTemp = async () => {
        const t = await realCreate();
        if (!failNext) return t;
        failNext = false;
        const original = t.write.bind(t);
        let writes = 0;
        t.write = async (chunk: Buffer) => {
          if (++writes > 1)
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          return original(chunk);
        };
        return t as TempFile;
      };
      const files = await makeFiles(dir, 34, 2);
      const results = await storeFiles(peerOf(box), files, () => undefined);
      assert.equal(results[0]!.status, Status.OutOfResources);
      assert.match(results[0]!.error ?? '', /no space left/);
      assert.equal(results[1]!.status, Status.Success);
      assert.deepEqual(await cacheState(box), { files: 1, temps: 0, instances: 1 });
    });
  });
});
