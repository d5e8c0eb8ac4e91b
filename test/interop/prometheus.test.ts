// The box watched by a real Prometheus (Debian's package) on 127.0.0.1, with the shipped
// alert rules: a study arrives while its destination is down, the oldest-undelivered age
// rises and the failing-destination alert goes pending; the destination comes up and the
// age drops to 0. Also promtool's checks of a scrape and of the rules, and the HTTP face.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  freePort,
  run,
  startBox,
  startStorescp,
  tempDir,
  waitForPort,
  type TestBox,
  storescu,
} from '../support/peers';
import { writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';

const RULES = path.join(
  __dirname,
  '..',
  '..',
  '..',
  'scripts',
  'prometheus',
  'dicom-edge-rules.yml',
);

async function get(url: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(url);
  return {
    status: res.status,
    body: await res.text(),
    type: res.headers.get('content-type') ?? '',
  };
}

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

describe('metrics: a real Prometheus scrapes the box', function () {
  this.timeout(120_000);
  let box: TestBox;
  let metricsPort: number;
  let destinationPort: number;
  const stops: Array<() => Promise<unknown>> = [];

  before(async () => {
    metricsPort = await freePort();
    destinationPort = await freePort(); // nothing listens there yet: the destination is down
    box = await startBox({
      metrics: { port: metricsPort, host: '127.0.0.1' },
      nodes: [
        { name: 'pacs', ae: 'STORESCP', host: '127.0.0.1', port: destinationPort, forward: true },
      ],
      forwarding: { retryInitialSeconds: 0.5, retryMaxSeconds: 1 },
    });
    stops.push(() => box.stop());
  });

  after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  it('serves /healthz, /readyz and the Prometheus text format that promtool accepts', async () => {
    const base = `http://127.0.0.1:${metricsPort}`;
    assert.equal((await get(`${base}/healthz`)).status, 200);
    const ready = await get(`${base}/readyz`);
    assert.equal(ready.status, 200, ready.body);
    assert.equal((await get(`${base}/nothing`)).status, 404);
    const scrape = await get(`${base}/metrics`);
    assert.match(scrape.type, /^text\/plain; version=0\.0\.4/);
    assert.match(
      scrape.body,
      /^dicom_edge_build_info\{version="[^"]+",nodejs_version="[^"]+"\} 1$/m,
    );
    assert.match(scrape.body, /^process_resident_memory_bytes \d+/m);
    const dir = tempDir('scrape');
    stops.push(() => fs.rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'scrape.txt');
    await fs.writeFile(file, scrape.body);
    const checked = await run('sh', ['-c', `promtool check metrics < ${file}`]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });

  it("every forward destination's delivered counters exist from the start at 0, and go with its node", async () => {
    // Before anything was delivered: without these series, increase() over the first
    // scrape that has them misses the first batch after each restart.
    const scrape = async (): Promise<string> =>
      (await get(`http://127.0.0.1:${metricsPort}/metrics`)).body;
    const delivered = (name: string): RegExp =>
      new RegExp(
        `^dicom_edge_forward_delivered_(instances|bytes)_total\\{destination="${name}"\\} 0$`,
        'gm',
      );
    assert.equal((await scrape()).match(delivered('pacs'))?.length, 2);
    const nodes = box.liveConfig.get().nodes;
    const archive = { ...nodes[0]!, name: 'archive', ae: 'ARCHIVE' };
    await box.liveConfig.change({ nodes: [...nodes, archive] });
    try {
      assert.equal((await scrape()).match(delivered('archive'))?.length, 2);
    } finally {
      await box.liveConfig.change({ nodes });
    }
    const after = await scrape();
    assert.doesNotMatch(after, /destination="archive"/);
    assert.equal(after.match(delivered('pacs'))?.length, 2);
  });

  it('ships alert rules that promtool accepts', async () => {
    const checked = await run('promtool', ['check', 'rules', RULES]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /SUCCESS: 11 rules found/);
  });

  it('shows forwarding falling behind, the failing-destination alert, and the age back to 0', async () => {
    const dir = tempDir('prometheus');
    stops.push(() => fs.rm(dir, { recursive: true, force: true }));
    const webPort = await freePort();
    await fs.writeFile(
      path.join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${RULES}`,
        'scrape_configs:',
        '  - job_name: dicom-edge',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${metricsPort}']`,
        '',
      ].join('\n'),
    );
    const prometheus: ChildProcess = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
      ],
      { stdio: 'ignore' },
    );
    stops.push(async () => {
      if (prometheus.exitCode !== null) return;
      prometheus.kill('SIGTERM');
      await new Promise((r) => prometheus.once('exit', r));
    });
    await waitForPort(webPort, 30_000);
    const api = `http://127.0.0.1:${webPort}/api/v1`;
    const query = async (q: string): Promise<Sample[]> => {
      const r = JSON.parse((await get(`${api}/query?query=${encodeURIComponent(q)}`)).body) as {
        data?: { result: Sample[] };
      };
      return r.data?.result ?? [];
    };
    const age = async (): Promise<number | undefined> => {
      const [s] = await query(
        'dicom_edge_forward_oldest_undelivered_age_seconds{destination="pacs"}',
      );
      return s ? Number(s.value[1]) : undefined;
    };

    const files = await writeSyntheticStudy(dir, 1600, 3);
    await storescu(box.port, files);

    // Rising: two readings through Prometheus, the second higher and above 0.
    const first = await waitFor('a first age above 0', async () => {
      const a = await age();
      return a !== undefined && a > 0 ? a : undefined;
    });
    await waitFor('the age rising', async () => ((await age()) ?? 0) > first, 30_000, 500);
    const alert = await waitFor('the failing-destination alert', async () => {
      const r = JSON.parse((await get(`${api}/alerts`)).body) as {
        data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
      };
      return r.data.alerts.find(
        (a) =>
          a.labels.alertname === 'DicomEdgeDestinationFailing' && a.labels.destination === 'pacs',
      );
    });
    assert.ok(['pending', 'firing'].includes(alert.state), alert.state);
    const [queued] = await query('dicom_edge_forward_queued_jobs{destination="pacs"}');
    assert.equal(queued?.value[1], '3');

    // The destination comes up: everything is delivered, the age drops to 0.
    const scp = await startStorescp([], destinationPort);
    stops.push(() => scp.stop());
    await waitFor('the age back to 0', async () => (await age()) === 0, 60_000, 500);
    const [delivered] = await query(
      'dicom_edge_forward_delivered_instances_total{destination="pacs"}',
    );
    assert.equal(delivered?.value[1], '3');
    const [received] = await query('dicom_edge_received_instances_total');
    assert.equal(received?.metric.calling_ae, 'STORESCU');
    assert.equal(received?.value[1], '3');
  });
});
