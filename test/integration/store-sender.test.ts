// How long a C-STORE of the box may take (issue 30): it is bounded by silence, not by its
// length. A transfer that keeps moving — a large instance through a bandwidth cap, or one
// waiting its turn behind others in an operations window — is never cut; a peer that
// takes the data and never answers is given up after the timeout.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { DimseRequestor } from '../../firmware/dicom/dimse/dimse-requestor';
import { openAssociation } from '../../firmware/services/open-association';
import { proposeContexts, routeKey, sendInstance } from '../../firmware/services/store-sender';
import { Cache } from '../../storage/cache';
import { tempDir } from '../support/peers';
import { startPoisonScp, type PoisonScp } from '../support/poison-scp';
import { uid, writeSyntheticFile } from '../support/synthetic';

/** The chunks again, in pieces of 8 KB, each after `ms`: a slow, steady line. */
async function* trickle(data: AsyncIterable<Buffer>, ms: number): AsyncGenerator<Buffer> {
  for await (const chunk of data)
    for (let off = 0; off < chunk.length; off += 8192) {
      await new Promise((r) => setTimeout(r, ms));
      yield chunk.subarray(off, off + 8192);
    }
}

describe('a C-STORE of the box is bounded by silence, not by its length', function () {
  this.timeout(30_000);
  let scp: PoisonScp | undefined;
  afterEach(async () => {
    await scp?.down();
    scp = undefined;
  });

  async function send(timeoutMs: number, through?: typeof trickle): Promise<number> {
    scp ??= await startPoisonScp(new Set());
    const dir = tempDir('sender');
    await fs.mkdir(path.join(dir, 'cache'));
    const relative = path.join('cache', 'ct.dcm');
    const sopInstanceUid = uid(4001, 1, 1);
    await writeSyntheticFile(path.join(dir, relative), {
      studyUid: uid(4001),
      seriesUid: uid(4001, 1),
      sopInstanceUid,
      rows: 256,
      columns: 256,
    });
    const bytes = await fs.readFile(path.join(dir, relative));
    const head = parsePart10Header(bytes);
    const instance = {
      sopInstanceUid,
      sopClassUid: head.meta.mediaStorageSopClassUid,
      transferSyntaxUid: head.meta.transferSyntaxUid,
      path: relative,
      datasetOffset: head.datasetOffset,
      size: bytes.length,
    };
    const proposal = proposeContexts([routeKey(instance)]);
    const association = await openAssociation(
      { host: '127.0.0.1', port: scp.port, callingAeTitle: 'BOX', calledAeTitle: 'PACS' },
      proposal.contexts,
    );
    try {
      const route = proposal.routes(association).get(routeKey(instance))!;
      const { status } = await sendInstance(
        new DimseRequestor(association),
        new Cache(dir),
        route,
        instance,
        { peer: 'pacs', timeoutMs, ...(through ? { through: (d) => through(d, 40) } : {}) },
      );
      return status;
    } finally {
      association.abort();
    }
  }

  it('a 128 KB instance trickling for 0.6 s is not cut by a timeout of 0.3 s', async () => {
    const started = Date.now();
    assert.equal(await send(300, trickle), 0);
    assert.ok(Date.now() - started > 600, 'it did take longer than the timeout');
  });

  it('a peer that takes the data and never answers is given up after the timeout', async () => {
    scp = await startPoisonScp(new Set());
    scp.answers = false;
    await assert.rejects(() => send(300), /no C-STORE-RSP within 0\.3 s/);
  });
});
