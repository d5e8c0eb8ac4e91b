// Orthanc (Debian's package) as the storage commitment requester: its REST call sends the
// N-ACTION to the box (a modality in its configuration); the box reports back over a new
// association to Orthanc (a node in its configuration) with the SCP role.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { freePort, run, startBox, tempDir, type TestBox, storescu } from '../support/peers';
import { startOrthanc, type OrthancPeer } from '../support/orthanc';
import { CT_IMAGE_STORAGE, uid, writeSyntheticFile } from '../support/synthetic';
import { waitFor } from '../support/wait';

interface CommitmentStatus {
  Status: string;
  Success: Array<{ SOPInstanceUID: string }>;
  Failures: Array<{ SOPInstanceUID: string; FailureReason: number }>;
}

describe('storage commitment with Orthanc as the requester', function () {
  this.timeout(60_000);
  let box: TestBox;
  let orthanc: OrthancPeer;

  before(async () => {
    const orthancPort = await freePort();
    box = await startBox({
      commit: 'stored',
      // The 24 h timeout stays: a missing instance is answered after the grace, not then.
      commitGraceSeconds: 1,
      nodes: [
        { name: 'orthanc', ae: 'ORTHANC', host: '127.0.0.1', port: orthancPort, forward: false },
      ],
    });
    orthanc = await startOrthanc({
      dicomPort: orthancPort,
      modalities: { box: { ae: 'DICOM_EDGE', host: '127.0.0.1', port: box.port } },
    });
    const file = path.join(tempDir('orthanc-commit'), 'a.dcm');
    await writeSyntheticFile(file, {
      studyUid: uid(400),
      seriesUid: uid(400, 1),
      sopInstanceUid: uid(400, 1, 1),
    });
    await storescu(box.port, [file]);
  });
  after(async () => {
    await orthanc.stop();
    await box.stop();
  });

  async function commit(sops: string[]): Promise<CommitmentStatus> {
    const body = JSON.stringify({
      DicomInstances: sops.map((s) => [CT_IMAGE_STORAGE, s]),
      Timeout: 20,
    });
    const job = JSON.parse(
      (await orthanc.rest('POST', '/modalities/box/storage-commitment', body)).toString(),
    ) as { Path: string };
    return waitFor(
      'the report in Orthanc',
      async () => {
        const s = JSON.parse((await orthanc.rest('GET', job.Path)).toString()) as CommitmentStatus;
        return s.Status !== 'Pending' ? s : undefined;
      },
      20_000,
      200,
    );
  }

  it('commits what the box holds: Success', async () => {
    const s = await commit([uid(400, 1, 1)]);
    assert.equal(s.Status, 'Success');
    assert.deepEqual(
      s.Success.map((x) => x.SOPInstanceUID),
      [uid(400, 1, 1)],
    );
  });

  it('fails what it never received, with reason 0112, after the grace (not the 24 h timeout)', async () => {
    const s = await commit([uid(400, 1, 1), uid(400, 1, 2)]);
    assert.equal(s.Status, 'Failure');
    assert.deepEqual(
      s.Success.map((x) => x.SOPInstanceUID),
      [uid(400, 1, 1)],
    );
    assert.deepEqual(
      s.Failures.map((x) => [x.SOPInstanceUID, x.FailureReason]),
      [[uid(400, 1, 2), 0x0112]],
    );
  });

  it("Orthanc as the SCP commits for our `commit` command, reporting to the box's listener", async () => {
    const file = path.join(tempDir('orthanc-scp'), 'b.dcm');
    await writeSyntheticFile(file, {
      studyUid: uid(401),
      seriesUid: uid(401, 1),
      sopInstanceUid: uid(401, 1, 1),
    });
    await storescu(orthanc.dicomPort, [file], [], orthanc.ae);
    const config = path.join(tempDir('orthanc-scp-config'), 'dicom-edge.json');
    await fs.writeFile(config, JSON.stringify({ storageDir: box.config.storageDir }));
    const bin = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');
    const r = await run(bin, [
      'commit',
      '127.0.0.1',
      String(orthanc.dicomPort),
      file,
      '--aec',
      orthanc.ae,
      '--config',
      config,
      '--timeout',
      '20',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`committed ${uid(401, 1, 1).replace(/\./g, '\\.')}`));
    assert.match(r.stdout, /event type 1, 1 committed, 0 failed/);
  });
});
