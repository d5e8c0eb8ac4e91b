// The dashboard's layout without a terminal: every size gives exactly its lines and width.
import { strict as assert } from 'node:assert';
import type { NodeConfig } from '../../firmware/config/config';
import type { BoxStatus } from '../../firmware/control/status';
import type { DestinationReport } from '../../firmware/forward/forwarder';
import {
  compactUids,
  renderDashboard,
  sparkline,
  type DashboardState,
} from '../../ui-tty/dashboard-view';
import { destinationState } from '../../ui-tty/dashboard-message';

const nodes: NodeConfig[] = Array.from({ length: 12 }, (_, i) => ({
  name: `node${i}`,
  ae: `AE${i}`,
  host: `10.0.0.${i}`,
  port: 104,
  forward: i === 0,
}));

function state(overrides: Partial<DashboardState> = {}): DashboardState {
  const status = {
    ae: 'DICOM_EDGE',
    port: 11112,
    tlsPort: null,
    host: '0.0.0.0',
    version: '0.1.0',
    addresses: ['fd00::2', '192.168.1.5'],
    startedAt: '2026-11-25T00:00:00Z',
    uptimeSeconds: 3725,
    associations: 1,
    activeAssociations: [
      {
        callingAe: 'CT_SCANNER',
        address: '192.168.1.30:40112',
        since: '2026-11-25T01:00:00Z',
        service: 'C-STORE-RQ',
        requests: 120,
        bytesReceived: 63_000_000,
      },
    ],
    throughput: { intervalSeconds: 10, bytes: [0, 1e6, 5e6, 2e6] },
    health: {
      takenAt: '2026-11-25T01:00:00Z',
      cpuTemperatureC: 81.5,
      load: [0.5, 0.4, 0.3],
      cpus: 4,
      memory: { totalBytes: 4e9, availableBytes: 3e9 },
      links: [{ name: 'eth0', up: true, speedMbps: 1000, address: '192.168.1.5' }],
      processRssBytes: 60e6,
    },
    today: { instances: 120, bytes: 63_000_000 },
    cache: {
      instances: 500,
      studies: 4,
      diskTotalBytes: 100e9,
      diskFreeBytes: 10e9,
      warnPercent: 85,
      evictAbovePercent: 90,
      evictToPercent: 80,
      pinnedBytes: 2e9,
      evictedStudies: 3,
      evictedBytes: 1.5e9,
      refusing: null,
    },
    worklist: null,
    destinations: [
      {
        name: 'node0',
        state: 'backing-off',
        queued: 37,
        inFlight: null,
        inFlightCount: 0,
        failed: 1,
        oldestWaitingSeconds: 7200,
        lastError: 'cannot associate with AE0@10.0.0.0:104: connect ETIMEDOUT',
        failingSince: '2026-11-25T00:58:00.000Z',
      } as unknown as DestinationReport,
      {
        name: 'node1',
        state: 'idle',
        queued: 0,
        inFlight: null,
        inFlightCount: 0,
        failed: 1,
        oldestWaitingSeconds: null,
        lastError: null,
        lastJobError: null,
        lastFailedSop: '1.2.840.99.7',
        lastFailedAt: '2026-11-25T00:59:58.000Z',
        lastFailedError: 'association aborted (source 0, reason 0)',
      } as unknown as DestinationReport,
    ],
    certificates: [],
    recentEvents: Array.from(
      { length: 50 },
      (_, i) => `2026-11-25T01:00:${String(i).padStart(2, '0')}.000Z INFO  event ${i}`,
    ),
  } as BoxStatus;
  return {
    status,
    nodes,
    selected: 0,
    now: new Date('2026-11-25T01:02:03Z'),
    unicode: true,
    ...overrides,
  };
}

/** The state with node1 selected and its report changed as given. */
function node1With(patch: Partial<DestinationReport>): DashboardState {
  const s = state({ selected: 1 });
  const [first, second] = s.status.destinations;
  return {
    ...s,
    status: { ...s.status, destinations: [first!, { ...second!, ...patch }] },
  };
}

describe('dashboard view', () => {
  it('shows the worklist copy in one line below the cache: warn when stale, error when expired', () => {
    const worklist = {
      source: 'ris',
      peer: 'RIS@10.1.2.4:104',
      state: 'stale' as const,
      items: 42,
      lastSuccessAt: '2026-11-24T23:02:03.000Z',
      ageSeconds: 7200,
      failingSince: '2026-11-25T00:10:00.000Z',
      lastError: 'cannot associate: connect ECONNREFUSED 10.1.2.4:104',
      intervalSeconds: 60,
      maxAgeSeconds: 86400,
      servedUntil: '2026-11-25T23:02:03.000Z',
      truncated: false,
      mismatches: 0,
      replicating: false,
    };
    const base = state();
    const stale = renderDashboard({ ...base, status: { ...base.status, worklist } }, 80, 24);
    assert.equal(stale.length, 24, 'the events give up a row');
    const i = stale.findIndex((l) => l.text.startsWith('Worklist '));
    assert.ok(stale[i - 1]!.text.startsWith('Cache '));
    assert.equal(
      stale[i]!.text,
      'Worklist ris: 42 items, STALE since 00:10:00 (2h old), served until 23:02:03 (c~',
    );
    assert.equal(stale[i]!.style, 'warn');
    const expired = renderDashboard(
      {
        ...base,
        status: { ...base.status, worklist: { ...worklist, state: 'expired', ageSeconds: 90000 } },
      },
      80,
      24,
    );
    const line = expired.find((l) => l.text.startsWith('Worklist '))!;
    assert.match(line.text, /^Worklist ris: EXPIRED, copy 25h old: modalities get C001; failing/);
    assert.equal(line.style, 'error');
    assert.ok(!renderDashboard(base, 80, 24).some((l) => l.text.startsWith('Worklist ')));
  });

  it('fills exactly the terminal, at 80x24 and larger', () => {
    for (const [w, h] of [
      [80, 24],
      [120, 40],
      [200, 60],
    ] as const) {
      const lines = renderDashboard(state(), w, h);
      assert.equal(lines.length, h, `${w}x${h}`);
      assert.ok(
        lines.every((l) => l.text.length === w),
        `${w}x${h}`,
      );
    }
  });

  it('shows identity (IPv4 first), associations, queue, cache, health, events and the keys at 80x24', () => {
    const text = renderDashboard(state(), 80, 24).map((l) => l.text);
    assert.match(
      text[0]!,
      /^DICOM_EDGE on port 11112 \| up 1h 2m \| 192\.168\.1\.5 \+1 \| dicom-edge 0\.1\.0 +01:02:03$/,
    );
    assert.match(text[1]!, /^Receive .* 200\.0 KB\/s {2}today 120 inst 63\.0 MB *$/);
    assert.ok(
      text.some((l) => /^ {2}CT_SCANNER +192\.168\.1\.30:40112 +C-STORE-RQ +120 req/.test(l)),
    );
    assert.ok(
      text.some((l) => /^>node0 +AE0@10\.0\.0\.0:104 +yes retrying +37 +0 +1 +2h /.test(l)),
    );
    assert.ok(
      text.some((l) =>
        /^Cache 500 inst\/4 studies \[#########\.\] 90% evict>90% 10\.0 GB free, 2\.0 GB pinned$/.test(
          l.trimEnd(),
        ),
      ),
    );
    assert.ok(
      text.some((l) =>
        /^Health temp 82C {2}load 0\.50\/4 cpu {2}mem 1\.0 GB\/4\.0 GB {2}eth0 up 1000M/.test(l),
      ),
    );
    assert.ok(text.some((l) => /^01:00:49 INFO {2}event 49/.test(l)));
    // No message: the selected node's problem since when, whole (over two lines here).
    assert.equal(
      `${text[21]!.trimEnd()} ${text[22]!.trimEnd()}`,
      'node0: failing since 00:58:00: cannot associate with AE0@10.0.0.0:104: connect ETIMEDOUT',
    );
    assert.match(text[23]!, /^a:AE p:port/);
  });

  it("shows a node's failed count and its last failure with the SOP UID and a time", () => {
    const lines = renderDashboard(state({ selected: 1 }), 120, 40).map((l) => l.text);
    assert.ok(
      lines.some((l) => /^>node1 .* +1 +- +failed 00:59:58 SOP 1\.2\.840\.99\.7: associat/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) =>
        /^node1: failed 00:59:58 SOP 1\.2\.840\.99\.7: association aborted \(source 0, reason 0\)$/.test(
          l.trimEnd(),
        ),
      ),
    );
  });

  it('keeps the version and an IPv4 address on the identity line at 80 columns', () => {
    const s = state();
    const crowded = {
      ...s,
      status: {
        ...s.status,
        ae: 'RADIOLOGY_CLINIC',
        version: '10.12.3-rc.1',
        uptimeSeconds: 40 * 86400,
        addresses: ['fe80::1234:5678:9abc:def0', '2001:db8::1', '10.20.30.40', '192.168.100.200'],
      },
    };
    const [title] = renderDashboard(crowded, 80, 24).map((l) => l.text);
    assert.match(
      title!,
      /^RADIOLOGY_CLINIC on port 11112 \| .*10\.20\.30\.40.* \| dicom-edge 10\.12\.3-rc\.1 +01:02:03$/,
    );
    assert.equal(title!.length, 80);
  });

  it("shows a failed instance's whole SOP Instance UID and reason at 80x24, over the events", () => {
    const sop = `1.2.826.0.1.3680043.8.498.${'12345678901234567890'.repeat(2)}.1`.slice(0, 64);
    const failed = node1With({
      lastFailedSop: sop,
      lastFailedError: 'the destination refused it: 0xa900 (identifier does not match)',
    });
    const lines = renderDashboard(failed, 80, 24).map((l) => l.text);
    assert.equal(lines.length, 24);
    assert.ok(lines.every((l) => l.length === 80));
    const message = lines
      .slice(-4, -1)
      .map((l) => l.trimEnd())
      .join(' ');
    assert.ok(message.includes(`node1: failed 00:59:58 SOP ${sop}:`), message);
    assert.ok(
      lines.some((l) => l.includes(sop)),
      'the UID on one line',
    );
    assert.ok(message.endsWith('0xa900 (identifier does not match)'), message);
  });

  it("shows an instance's last error with its time, and not once a later one is delivered", () => {
    const withJobError = (lastJobError: string | null) =>
      node1With({ lastFailedSop: null, lastJobError, lastErrorAt: '2026-11-25T00:30:00.000Z' });
    const erring = renderDashboard(withJobError('association aborted'), 80, 24).map((l) => l.text);
    assert.match(erring[22]!, /^node1: 00:30:00 association aborted/);
    // The forwarder reports no job error once a later instance was delivered.
    const delivered = renderDashboard(withJobError(null), 80, 24).map((l) => l.text);
    assert.equal(delivered[22]!.trim(), '');
  });

  it("shortens an event's long UIDs in the middle, keeping the end that tells them apart", () => {
    const sop = '2.25.3141592653589793.50.1.12';
    const event = `03:26:49 INFO  stored peer=MR_ROOM2@127.0.0.1:37910 sop=${sop} bytes=524288`;
    const shown = compactUids(event, 80, '~');
    assert.match(shown, /sop=2\.25\.~93\.50\.1\.12 bytes=/);
    assert.equal(compactUids('stored sop=1.2.3.4.5', 80, '~'), 'stored sop=1.2.3.4.5');
    const s = state();
    const busy = {
      ...s,
      status: {
        ...s.status,
        recentEvents: [`2026-11-25T${event.slice(0, 8)}.000Z${event.slice(8)}`],
      },
    };
    const lines = renderDashboard(busy, 80, 24).map((l) => l.text);
    assert.ok(
      lines.some((l) => l.includes('…93.50.1.12')),
      lines.join('\n'),
    );
  });

  it('flags a nearly full disk and a hot CPU', () => {
    const lines = renderDashboard(state(), 80, 24);
    assert.equal(lines.find((l) => l.text.startsWith('Cache'))?.style, 'warn');
    assert.equal(lines.find((l) => l.text.startsWith('Health'))?.style, 'warn');
  });

  it('says the box is refusing C-STORE, and why, where the cache line was', () => {
    const s = state();
    const refusing = {
      ...s,
      status: { ...s.status, cache: { ...s.status.cache, refusing: 'cache full: 100 MB free' } },
    };
    const lines = renderDashboard(refusing, 80, 24);
    const line = lines.find((l) => l.text.startsWith('Cache'));
    assert.match(line?.text ?? '', /^Cache {2}REFUSING C-STORE: cache full: 100 MB free/);
    assert.equal(line?.style, 'error');
  });

  it('cuts the AE title of a long node address, never its host:port (issue 27)', () => {
    const rowOf = (node: NodeConfig): string => {
      const lines = renderDashboard(state({ nodes: [node] }), 80, 24).map((l) => l.text);
      assert.ok(lines.every((l) => l.length === 80));
      return lines.find((l) => l.startsWith(`>${node.name} `)) ?? '';
    };
    const central = { name: 'central', ae: 'CENTRAL_PACS_ARCHIVE', host: '127.0.0.1', port: 11112 };
    assert.match(
      rowOf({ ...central, forward: true }),
      /^>central +CENTRAL_\S*~@127\.0\.0\.1:11112 /,
    );
    // A host too long for the column widens it: the row's end is cut instead.
    const far = {
      name: 'far',
      ae: 'PACS',
      host: 'hospital-pacs.radiology.example.org',
      port: 11112,
    };
    assert.match(
      rowOf({ ...far, forward: false }),
      / P~@hospital-pacs\.radiology\.example\.org:11112 /,
    );
    // A URL keeps its scheme, host and port; its path is cut.
    const web = {
      name: 'web',
      kind: 'dicomweb',
      url: 'https://pacs.example.org:8443/dicom-web/tenants/clinic-north/studies',
      forward: false,
    } as NodeConfig;
    assert.match(rowOf(web), / https:\/\/pacs\.example\.org:8443\/\S*~ /);
  });

  it('says which nodes are reached over TLS, and where a TLS-only box listens (issue 27)', () => {
    const s = state({
      nodes: [
        {
          name: 'secure',
          ae: 'PACS',
          host: '10.0.0.9',
          port: 2762,
          forward: false,
          tls: { profile: 'bcp195' },
        },
        { name: 'plain', ae: 'PACS', host: '10.0.0.8', port: 104, forward: false },
      ],
    });
    const tlsOnly = { ...s, status: { ...s.status, port: 0, tlsPort: 2762 } };
    const lines = renderDashboard(tlsOnly, 80, 24).map((l) => l.text);
    assert.match(lines[0]!, /^DICOM_EDGE on TLS port 2762 \|/);
    assert.match(
      lines.find((l) => l.includes(' NODE '))!,
      / AE@HOST:PORT +TLS FWD /,
    );
    assert.match(
      lines.find((l) => l.startsWith('>secure'))!,
      /PACS@10\.0\.0\.9:2762 +yes +no /,
    );
    assert.match(
      lines.find((l) => l.startsWith(' plain'))!,
      /PACS@10\.0\.0\.8:104 +no /,
    );
    const both = { ...s, status: { ...s.status, tlsPort: 2762 } };
    assert.match(
      renderDashboard(both, 80, 24)[0]!.text,
      /^DICOM_EDGE on port 11112 and TLS port 2762 /,
    );
  });

  it('wraps a refusal under a prompt over two lines instead of cutting it (issue 27)', () => {
    const text =
      'cannot listen on 0.0.0.0:104: listen EADDRINUSE: address already in use 0.0.0.0:104 (another program has the port)';
    const lines = renderDashboard(state({ help: { text, error: true } }), 80, 24);
    assert.equal(lines.length, 24);
    const shown = lines.slice(-2);
    assert.ok(shown.every((l) => l.style === 'error'));
    // The row above is the prompt's (dashboard.ts puts it there): nothing else is drawn on it.
    assert.equal(lines[21]!.text.trim(), '');
    assert.equal(shown.map((l) => l.text.trimEnd()).join(' '), text);
  });

  it("says a message's age once it is no longer news, drops it after a minute, and one about a node whose state changed (issue 27)", () => {
    const s = node1With({ consecutiveFailures: 0 });
    const node1 = s.status.destinations[1];
    const said = (secondsAgo: number, about?: string) => ({
      text: 'echo node1: 0x0000 (success)',
      error: false,
      at: new Date(s.now.getTime() - secondsAgo * 1000),
      ...(about ? { about: { node: 'node1', state: about } } : {}),
    });
    const messageLine = (state: DashboardState): string =>
      renderDashboard(state, 80, 24)[22]!.text.trimEnd();
    assert.equal(messageLine({ ...s, message: said(3) }), 'echo node1: 0x0000 (success)');
    assert.equal(messageLine({ ...s, message: said(25) }), '25s ago: echo node1: 0x0000 (success)');
    // About node1 as it was: it holds, with its age, for a minute.
    const then = destinationState(node1);
    assert.equal(
      messageLine({ ...s, message: said(59, then) }),
      '59s ago: echo node1: 0x0000 (success)',
    );
    assert.doesNotMatch(messageLine({ ...s, message: said(60, then) }), /echo node1/);
    // node1 has failed since: the echo's answer goes, node1's problem shows.
    const failedSince = renderDashboard(
      { ...node1With({ consecutiveFailures: 1 }), message: said(3, then) },
      80,
      24,
    ).map((l) => l.text);
    assert.ok(!failedSince.some((l) => l.includes('echo node1')));
    assert.ok(failedSince.some((l) => l.startsWith('node1: failed 00:59:58 SOP 1.2.840.99.7')));
  });

  it('keeps the selected node in view', () => {
    const lines = renderDashboard(state({ selected: 11 }), 80, 24).map((l) => l.text);
    assert.ok(lines.some((l) => l.startsWith('>node11 ')));
  });

  it('draws a sparkline scaled to its largest value, newest on the right', () => {
    assert.equal(sparkline([0, 4, 8], 5, true), '   ▄█');
    assert.equal(sparkline([0, 4, 8], 5, false), '   +@');
    assert.equal(sparkline([], 3, false), '   ');
  });
});
