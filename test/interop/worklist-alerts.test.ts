// The worklist's alert rules (scripts/prometheus/dicom-edge-rules.yml), run by promtool's
// rule unit tests on series as a box exports them (issue 29): a source failing while the
// copy is served warns after 10 minutes; a copy older than its window is critical after 5;
// a fresh copy, or a box without a worklist source (no series), raises neither.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { run, tempDir } from '../support/peers';

const RULES = path.join(
  __dirname,
  '..',
  '..',
  '..',
  'scripts',
  'prometheus',
  'dicom-edge-rules.yml',
);

const LABELS = '{instance="clinic1:9464", job="dicom-edge"}';

/**
 * The shipped rules without their annotations: promtool compares an alert's annotations
 * too, and what is tested here is when each alert fires (its expression and its `for`).
 */
async function rulesWithoutAnnotations(): Promise<string> {
  const lines = (await fs.readFile(RULES, 'utf8')).split('\n');
  const out: string[] = [];
  let skipping = false;
  for (const line of lines) {
    if (/^ {8}annotations:$/.test(line)) skipping = true;
    else if (skipping && !/^ {10}/.test(line)) skipping = false;
    if (!skipping) out.push(line);
  }
  const file = path.join(tempDir('worklist-rules'), 'rules.yml');
  await fs.writeFile(file, out.join('\n'));
  return file;
}

/** A promtool rule test: the series, and the worklist alerts expected at each time. */
function ruleTest(
  rules: string,
  series: Record<string, string>,
  at: Record<string, string[]>,
): string {
  const lines = [
    'rule_files:',
    `  - ${rules}`,
    'evaluation_interval: 1m',
    'tests:',
    '  - interval: 1m',
    '    input_series:',
    ...Object.entries(series).flatMap(([name, values]) => [
      `      - series: '${name}${LABELS}'`,
      `        values: '${values}'`,
    ]),
    '    alert_rule_test:',
  ];
  for (const [time, firing] of Object.entries(at))
    for (const alert of ['DicomEdgeWorklistStale', 'DicomEdgeWorklistExpired'])
      lines.push(
        `      - eval_time: ${time}`,
        `        alertname: ${alert}`,
        firing.includes(alert)
          ? `        exp_alerts:\n          - exp_labels: { instance: 'clinic1:9464', job: 'dicom-edge', severity: '${alert.endsWith('Stale') ? 'warning' : 'critical'}' }`
          : '        exp_alerts: []',
      );
  return `${lines.join('\n')}\n`;
}

async function promtool(
  series: Record<string, string>,
  at: Record<string, string[]>,
): Promise<void> {
  const test = ruleTest(await rulesWithoutAnnotations(), series, at);
  const file = path.join(tempDir('worklist-alerts'), 'test.yml');
  await fs.writeFile(file, test);
  const r = await run('promtool', ['test', 'rules', file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

describe('the worklist alert rules (promtool test rules, issue 29)', () => {
  it('stale: a warning once the source has failed for 10 minutes while the copy is served', async () => {
    await promtool(
      {
        // Fresh for 5 minutes, then the source fails: the copy ages a minute a minute.
        dicom_edge_worklist_stale: '0x4 1x20',
        dicom_edge_worklist_age_seconds: '30x4 60+60x20',
        dicom_edge_worklist_max_age_seconds: '86400x25',
      },
      { '4m': [], '10m': [], '16m': ['DicomEdgeWorklistStale'] },
    );
  });

  it('expired: critical 5 minutes after the copy passed its window; the stale warning then stops', async () => {
    await promtool(
      {
        dicom_edge_worklist_stale: '1x30',
        dicom_edge_worklist_age_seconds: '3000+60x30',
        dicom_edge_worklist_max_age_seconds: '3600x30',
      },
      // Stale from the start (firing from 10m); the age reaches the window (3600 s) at 10m,
      // which ends the stale alert and starts the expired one (firing from 15m).
      { '9m': [], '12m': [], '16m': ['DicomEdgeWorklistExpired'] },
    );
  });

  it('a box without a worklist source exports no series: no alert', async () => {
    await promtool({ dicom_edge_cache_refusing: '0x20' }, { '15m': [] });
  });
});
