// Storage commitment with the dcmjs-dimse npm package (an independent implementation) as
// the modality: it stores instances, sends an N-ACTION, and receives the N-EVENT-REPORT
// on the same association, or on its own listener once it has released.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import {
  freePort,
  startBox,
  tempDir,
  waitForPort,
  type BoxOverrides,
  type TestBox,
} from '../support/peers';
import { startOrthanc } from '../support/orthanc';
import { CT_IMAGE_STORAGE, uid, writeSyntheticFile } from '../support/synthetic';
import { waitFor } from '../support/wait';
import { onLogLine } from '../../firmware/log';

// dcmjs-dimse ships its own loose typings; the test talks to it through this narrow face.
/* eslint-disable @typescript-eslint/no-require-imports */
const dimse = require('dcmjs-dimse') as DcmjsDimse;
/* eslint-enable @typescript-eslint/no-require-imports */

interface DimseDataset {
  getElement(name: string): unknown;
}
interface DimseRequest {
  on(event: 'response', listener: (r: { getStatus(): number }) => void): void;
  setDataset(d: DimseDataset): void;
  getDataset(): DimseDataset;
  getEventTypeId(): number;
}
interface DcmjsDimse {
  Client: new () => {
    addRequest(r: DimseRequest): void;
    on(event: string, listener: (...args: never[]) => void): void;
    send(
      host: string,
      port: number,
      calling: string,
      called: string,
      opts?: Record<string, unknown>,
    ): void;
  };
  Server: new (scp: unknown) => { listen(port: number): void; close(): void };
  Scp: new (socket: unknown, opts: unknown) => object;
  Dataset: new (elements: Record<string, unknown>) => DimseDataset;
  requests: {
    CStoreRequest: new (file: string) => DimseRequest;
    NActionRequest: new (sopClass: string, sopInstance: string, actionType: number) => DimseRequest;
  };
  responses: {
    NEventReportResponse: { fromRequest(r: DimseRequest): { setStatus(s: number): void } };
  };
  constants: { Status: { Success: number } };
}

const COMMIT_CLASS = '1.2.840.10008.1.20.1';
const COMMIT_INSTANCE = '1.2.840.10008.1.20.1.1';

interface Report {
  readonly eventTypeId: number;
  readonly transactionUid: string;
  readonly referenced: string[];
  readonly failed: Array<{ uid: string; reason: number }>;
}

function readReport(request: DimseRequest): Report {
  const d = request.getDataset();
  const seq = (name: string): Array<Record<string, unknown>> =>
    (d.getElement(name) as Array<Record<string, unknown>>) ?? [];
  return {
    eventTypeId: request.getEventTypeId(),
    transactionUid: d.getElement('TransactionUID') as string,
    referenced: seq('ReferencedSOPSequence').map((i) => i.ReferencedSOPInstanceUID as string),
    failed: seq('FailedSOPSequence').map((i) => ({
      uid: i.ReferencedSOPInstanceUID as string,
      reason: i.FailureReason as number,
    })),
  };
}

/** A dcmjs-dimse SCP class that accepts everything and records the reports it is sent. */
function listener(received: Report[]): unknown {
  return class extends dimse.Scp {
    associationRequested(association: {
      getPresentationContexts(): Array<{
        id: number;
        context: { getTransferSyntaxUids(): string[]; setResult(r: number, ts: string): void };
      }>;
    }): void {
      for (const c of association.getPresentationContexts())
        c.context.setResult(0, c.context.getTransferSyntaxUids()[0]!);
      (this as unknown as { sendAssociationAccept(): void }).sendAssociationAccept();
    }
    nEventReportRequest(request: DimseRequest, callback: (r: unknown) => void): void {
      received.push(readReport(request));
      const response = dimse.responses.NEventReportResponse.fromRequest(request);
      response.setStatus(dimse.constants.Status.Success);
      callback(response);
    }
    associationReleaseRequested(): void {
      (
        this as unknown as { sendAssociationReleaseResponse(): void }
      ).sendAssociationReleaseResponse();
    }
  };
}

function nAction(transactionUid: string, sops: string[]): DimseRequest {
  const request = new dimse.requests.NActionRequest(COMMIT_CLASS, COMMIT_INSTANCE, 1);
  request.setDataset(
    new dimse.Dataset({
      TransactionUID: transactionUid,
      ReferencedSOPSequence: sops.map((sop) => ({
        ReferencedSOPClassUID: CT_IMAGE_STORAGE,
        ReferencedSOPInstanceUID: sop,
      })),
    }),
  );
  return request;
}

/** Runs one dcmjs-dimse association; resolves with the reports received on it and the statuses. */
function modality(
  port: number,
  requests: DimseRequest[],
  lingerMs: number,
): Promise<{ reports: Report[]; statuses: number[] }> {
  return new Promise((resolve, reject) => {
    const client = new dimse.Client();
    const reports: Report[] = [];
    const statuses: number[] = [];
    for (const r of requests) {
      r.on('response', (rsp) => statuses.push(rsp.getStatus()));
      client.addRequest(r);
    }
    client.on('nEventReportRequest', ((request: DimseRequest, callback: (r: unknown) => void) => {
      reports.push(readReport(request));
      const response = dimse.responses.NEventReportResponse.fromRequest(request);
      response.setStatus(dimse.constants.Status.Success);
      callback(response);
    }) as never);
    client.on('networkError', ((e: Error) => reject(e)) as never);
    client.on('closed', (() => resolve({ reports, statuses })) as never);
    client.send('127.0.0.1', port, 'MODALITY', 'DICOM_EDGE', {
      associationLingerTimeout: lingerMs,
    });
  });
}

describe('storage commitment with dcmjs-dimse as the modality', function () {
  this.timeout(60_000);
  let box: TestBox;
  let dir: string;
  const boxes: TestBox[] = [];
  async function start(overrides: BoxOverrides): Promise<TestBox> {
    const b = await startBox(overrides);
    boxes.push(b);
    return b;
  }
  const listeners: Array<{ close(): void }> = [];
  afterEach(async () => {
    await Promise.all(boxes.splice(0).map((b) => b.stop()));
    for (const l of listeners.splice(0)) l.close();
  });

  /** A dcmjs-dimse listener for reports sent on a new association; closed after the test. */
  async function startListener(): Promise<{ port: number; received: Report[] }> {
    const port = await freePort();
    const received: Report[] = [];
    const server = new dimse.Server(listener(received));
    server.listen(port);
    listeners.push(server);
    await waitForPort(port);
    return { port, received };
  }

  async function file(n: number): Promise<string> {
    const f = path.join(dir, `${n}.dcm`);
    await writeSyntheticFile(f, {
      studyUid: uid(200),
      seriesUid: uid(200, 1),
      sopInstanceUid: uid(200, 1, n),
      instanceNumber: n,
    });
    return f;
  }

  beforeEach(() => {
    dir = tempDir('commit');
  });

  it('reports success (event type 1) on the same association once the instances are stored', async () => {
    box = await start({ commit: 'stored' });
    const files = [await file(1), await file(2)];
    const transaction = uid(300, 1);
    const { reports, statuses } = await modality(
      box.port,
      [
        ...files.map((f) => new dimse.requests.CStoreRequest(f)),
        nAction(transaction, [uid(200, 1, 1), uid(200, 1, 2)]),
      ],
      1500,
    );
    assert.deepEqual(statuses, [0, 0, 0]);
    assert.equal(reports.length, 1);
    assert.deepEqual(reports[0], {
      eventTypeId: 1,
      transactionUid: transaction,
      referenced: [uid(200, 1, 1), uid(200, 1, 2)],
      failed: [],
    });
  });

  it('reports failure (event type 2, reason 0112) for an instance never sent, after the grace, on the same association', async () => {
    box = await start({ commit: 'stored', commitGraceSeconds: 1 });
    const transaction = uid(300, 2);
    const { reports } = await modality(
      box.port,
      [
        new dimse.requests.CStoreRequest(await file(3)),
        nAction(transaction, [uid(200, 1, 3), uid(200, 1, 99)]),
      ],
      5000,
    );
    assert.equal(reports.length, 1);
    assert.deepEqual(reports[0], {
      eventTypeId: 2,
      transactionUid: transaction,
      referenced: [uid(200, 1, 3)],
      failed: [{ uid: uid(200, 1, 99), reason: 0x0112 }],
    });
  });

  it('with commit "forwarded" and the upstream down, reports only once Orthanc is up and has the instance', async () => {
    const { port: listenPort, received } = await startListener();
    const orthancDicom = await freePort();
    box = await start({
      forwarding: {
        retryInitialSeconds: 0.5,
        retryMaxSeconds: 1,
        instancesPerAssociation: 100,
        idleSeconds: 2,
      },
      nodes: [
        { name: 'modality', ae: 'MODALITY', host: '127.0.0.1', port: listenPort, forward: false },
        { name: 'pacs', ae: 'ORTHANC', host: '127.0.0.1', port: orthancDicom, forward: true },
      ],
    });
    const transaction = uid(300, 4);
    await modality(
      box.port,
      [new dimse.requests.CStoreRequest(await file(5)), nAction(transaction, [uid(200, 1, 5)])],
      0,
    );
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(received, [], 'no report while the upstream is down');
    const orthanc = await startOrthanc({ dicomPort: orthancDicom });
    try {
      await waitFor('the report', async () => received.length > 0, 30_000);
      assert.deepEqual(received, [
        { eventTypeId: 1, transactionUid: transaction, referenced: [uid(200, 1, 5)], failed: [] },
      ]);
      assert.ok(await orthanc.fileOf(uid(200, 1, 5)), 'Orthanc has the instance');
    } finally {
      await orthanc.stop();
    }
  });

  it('keeps a pending commitment across a restart of the box, and reports it afterwards', async () => {
    const { port: listenPort, received } = await startListener();
    const nodes = [
      { name: 'modality', ae: 'MODALITY', host: '127.0.0.1', port: listenPort, forward: false },
    ];
    // A long grace: the instance comes after the restart, and must still be committed.
    const first = await start({ commit: 'stored', nodes, commitGraceSeconds: 120 });
    const transaction = uid(300, 5);
    await modality(first.port, [nAction(transaction, [uid(200, 1, 6)])], 0);
    await first.stop();
    const second = await start({
      commit: 'stored',
      nodes,
      commitGraceSeconds: 120,
      storageDir: first.config.storageDir,
    });
    await modality(second.port, [new dimse.requests.CStoreRequest(await file(6))], 0);
    await waitFor('the report after the restart', async () => received.length > 0, 20_000);
    assert.deepEqual(received, [
      { eventTypeId: 1, transactionUid: transaction, referenced: [uid(200, 1, 6)], failed: [] },
    ]);
  });

  it("reports on the modality's own listener when it has released before the result", async () => {
    const { port: listenPort, received } = await startListener();
    box = await start({
      commit: 'stored',
      commitGraceSeconds: 120,
      nodes: [
        { name: 'modality', ae: 'MODALITY', host: '127.0.0.1', port: listenPort, forward: false },
      ],
    });
    const transaction = uid(300, 3);
    // The N-ACTION comes before the instance: nothing to report while the association lasts.
    await modality(box.port, [nAction(transaction, [uid(200, 1, 4)])], 0);
    await modality(box.port, [new dimse.requests.CStoreRequest(await file(4))], 0);
    const deadline = Date.now() + 20_000;
    while (received.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(received, [
      { eventTypeId: 1, transactionUid: transaction, referenced: [uid(200, 1, 4)], failed: [] },
    ]);
  });

  it('a requester that releases right after the N-ACTION gets its report at once, never after a retry interval', async () => {
    const { port: listenPort, received } = await startListener();
    box = await start({
      commit: 'stored',
      nodes: [
        { name: 'modality', ae: 'MODALITY', host: '127.0.0.1', port: listenPort, forward: false },
      ],
    });
    const lines: string[] = [];
    const stopListening = onLogLine((line) => lines.push(line));
    try {
      const transaction = uid(300, 6);
      const onItsAssociation = await modality(
        box.port,
        [new dimse.requests.CStoreRequest(await file(7)), nAction(transaction, [uid(200, 1, 7)])],
        0,
      );
      const released = Date.now();
      // The report goes on the requester's association if the decision beats the release
      // (the instance is stored: it is decided at once), else on its listener, at once.
      const all = (): Report[] => [...onItsAssociation.reports, ...received];
      await waitFor('the report', async () => all().length > 0, 20_000, 20);
      console.log(
        `      report ${received.length ? `on the listener ${Date.now() - released} ms after the release` : 'on the same association'}`,
      );
      assert.deepEqual(all(), [
        { eventTypeId: 1, transactionUid: transaction, referenced: [uid(200, 1, 7)], failed: [] },
      ]);
      assert.ok(!lines.some((l) => /report not delivered, will retry/.test(l)), lines.join('\n'));
    } finally {
      stopListening();
    }
  });

  it('a missing instance is reported failed (0112) on the listener after the grace, the requester having released', async () => {
    const { port: listenPort, received } = await startListener();
    box = await start({
      commit: 'stored',
      commitGraceSeconds: 1,
      nodes: [
        { name: 'modality', ae: 'MODALITY', host: '127.0.0.1', port: listenPort, forward: false },
      ],
    });
    const transaction = uid(300, 7);
    await modality(box.port, [nAction(transaction, [uid(200, 1, 98)])], 0);
    await waitFor('the report', async () => received.length > 0, 20_000, 50);
    assert.deepEqual(received, [
      {
        eventTypeId: 2,
        transactionUid: transaction,
        referenced: [],
        failed: [{ uid: uid(200, 1, 98), reason: 0x0112 }],
      },
    ]);
  });
});
