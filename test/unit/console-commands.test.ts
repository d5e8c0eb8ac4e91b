// The console's commands against a fake control API: what each prints, and the errors.
import { strict as assert } from 'node:assert';
import { DEFAULTS, type Config } from '../../firmware/config/config';
import type { AnyRequest } from '../../firmware/control/commands';
import type { ControlCall } from '../../firmware/control/control-client';
import type { BoxStatus } from '../../firmware/control/status';
import { ConsoleCommands, words } from '../../ui-tty/console-commands';

function fakeBox(): { commands: ConsoleCommands; requests: AnyRequest[] } {
  const requests: AnyRequest[] = [];
  const config: Config = {
    ...DEFAULTS,
    storageDir: '/var/lib/dicom-edge',
    nodes: [{ name: 'pacs', ae: 'PACS', host: '10.1.2.3', port: 104, forward: true }],
  };
  const document = { ae: 'DICOM_EDGE', nodes: config.nodes };
  const status: BoxStatus = {
    ae: 'DICOM_EDGE',
    port: 11112,
    tlsPort: null,
    version: '0.1.0',
    addresses: ['192.168.1.5'],
    startedAt: new Date().toISOString(),
    uptimeSeconds: 65,
    associations: 1,
    today: { instances: 12, bytes: 6_300_000 },
    cache: {
      instances: 40,
      studies: 2,
      diskTotalBytes: 64e9,
      diskFreeBytes: 50e9,
      warnPercent: 85,
      evictAbovePercent: 90,
      evictToPercent: 80,
      pinnedBytes: 2e9,
      evictedStudies: 3,
      evictedBytes: 1.5e9,
      refusing: null,
    },
    worklist: null,
    destinations: [],
    certificates: [],
    recentEvents: ['line 1', 'line 2', 'line 3'],
    host: '0.0.0.0',
    throughput: { intervalSeconds: 10, bytes: [] },
    activeAssociations: [],
    health: {
      takenAt: new Date().toISOString(),
      cpuTemperatureC: null,
      load: [0.1, 0.1, 0.1],
      cpus: 4,
      memory: { totalBytes: 4e9, availableBytes: 3e9 },
      links: [{ name: 'eth0', up: true, speedMbps: 1000, address: '192.168.1.5' }],
      processRssBytes: 5e7,
    },
  } as BoxStatus;
  const answer = async (request: AnyRequest): Promise<unknown> => {
    requests.push(request);
    switch (request.command) {
      case 'status':
        return status;
      case 'config':
        return { config, file: '/etc/dicom-edge/dicom-edge.json', document };
      case 'config-set': {
        const set = request.set as Record<string, unknown>;
        if (set.port === 70000)
          throw new Error('config key "port": must be an integer from 1 to 65535');
        return {
          config,
          file: '/etc/x.json',
          document,
          changed: Object.keys(set),
          persisted: true,
        };
      }
      case 'echo':
        if (request.node === 'pacs') return { status: 0, backoffEnded: true };
        throw new Error(`no node named "${String(request.node)}"`);
      case 'queue':
        return [];
      case 'retry':
        return {
          count: 3,
          jobs: [1, 2, 3].map((i) => ({ sopInstanceUid: `1.2.${i}`, destination: 'pacs' })),
          backoffs: [{ destination: 'pacs', ended: request.destination === 'pacs' }],
        };
      default:
        throw new Error(`unknown command "${request.command}"`);
    }
  };
  // The fake answers what a box would; the types of the answers are the box's to keep.
  const call = answer as ControlCall;
  return { commands: new ConsoleCommands(call), requests };
}

describe('console commands', () => {
  it('splits words, keeping "quoted text" whole', () => {
    assert.deepEqual(words('  set ae "MY AE"  '), ['set', 'ae', 'MY AE']);
    assert.deepEqual(words(''), []);
  });

  it('help lists every command', async () => {
    const { commands } = fakeBox();
    const help = await commands.run('help');
    for (const c of [
      'status',
      'show config',
      'set ae',
      'set port',
      'node add',
      'node rm',
      'node set',
      'echo',
      'queue',
      'retry',
      'worklist',
      'worklist refresh',
      'worklist mismatches',
      'log',
    ])
      assert.ok(help.includes(c), c);
  });

  it('status, queue and log print the box state', async () => {
    const { commands } = fakeBox();
    assert.match(await commands.run('status'), /^DICOM_EDGE on port 11112 .*up 1m 5s/);
    assert.match(await commands.run('queue'), /no forward destinations/);
    assert.equal(await commands.run('log 2'), 'line 2\nline 3');
    assert.equal(await commands.run('LOG'), 'line 1\nline 2\nline 3');
  });

  it('show config prints settings and nodes', async () => {
    const { commands } = fakeBox();
    const out = await commands.run('show config');
    assert.match(out, /^file: \/etc\/dicom-edge\/dicom-edge.json$/m);
    assert.match(out, /^port = 11112$/m);
    assert.match(out, /^ {2}pacs {2}PACS@10\.1\.2\.3:104 {2}forward$/m);
  });

  it("node list marks the nodes reached over TLS (issue 27), and says a node's associations when set (issue 30)", async () => {
    const config: Config = {
      ...DEFAULTS,
      nodes: [
        {
          name: 'pacs',
          ae: 'PACS',
          host: '10.1.2.3',
          port: 2762,
          forward: true,
          tls: { profile: 'bcp195-nd' },
        },
        { name: 'viewer', ae: 'VIEWER', host: '10.1.2.4', port: 104, forward: false },
        { name: 'old', ae: 'OLD', host: '10.1.2.5', port: 104, forward: true, associations: 1 },
      ],
    };
    const call = (async (request: AnyRequest) =>
      request.command === 'config' ? { config, file: null, document: {} } : undefined) as unknown;
    const commands = new ConsoleCommands(call as ControlCall);
    assert.equal(
      await commands.run('node list'),
      'pacs  PACS@10.1.2.3:2762  tls  forward\nviewer  VIEWER@10.1.2.4:104\n' +
        'old  OLD@10.1.2.5:104  forward  1 association',
    );
  });

  it('set and node commands send config changes', async () => {
    const { commands, requests } = fakeBox();
    const lastSet = (): Record<string, unknown> => {
      const r = requests.at(-1)!;
      assert.equal(r.command, 'config-set');
      return r.command === 'config-set' ? r.set : {};
    };
    assert.match(await commands.run('set ae 1234'), /^ok: ae changed \(saved to \/etc\/x.json\)$/);
    assert.deepEqual(requests.at(-1), { command: 'config-set', set: { ae: '1234' } });
    await commands.run('set port 104');
    assert.deepEqual(lastSet(), { port: 104 });
    await commands.run('set forwarding.idleSeconds 30');
    assert.deepEqual(lastSet(), { forwarding: { idleSeconds: 30 } });
    await commands.run('node add viewer VIEWER 192.168.1.20 104 forward');
    assert.deepEqual((lastSet() as { nodes: unknown[] }).nodes[1], {
      name: 'viewer',
      ae: 'VIEWER',
      host: '192.168.1.20',
      port: 104,
      forward: true,
    });
    await commands.run('node set pacs port 11112');
    assert.deepEqual(lastSet(), {
      nodes: [{ name: 'pacs', ae: 'PACS', host: '10.1.2.3', port: 11112, forward: true }],
    });
    // How many associations it is forwarded over: a number (the box checks its range).
    await commands.run('node set pacs associations 1');
    assert.equal(
      (lastSet() as { nodes: Array<{ associations: unknown }> }).nodes[0]!.associations,
      1,
    );
    // An AE title stays text even when it looks like a number.
    await commands.run('node set pacs ae 1234');
    assert.equal((lastSet() as { nodes: Array<{ ae: unknown }> }).nodes[0]!.ae, '1234');
    await commands.run('node rm pacs');
    assert.deepEqual(lastSet(), { nodes: [] });
  });

  it('echo and retry', async () => {
    const { commands } = fakeBox();
    assert.equal(
      await commands.run('echo pacs'),
      'echo pacs: 0x0000 (success); backoff ended, retrying now',
    );
    assert.equal(await commands.run('echo nobody'), 'echo nobody: failed: no node named "nobody"');
    const requeued = '3 failed job(s) requeued:\n  pacs: 1.2.1\n  pacs: 1.2.2\n  pacs: 1.2.3';
    assert.equal(await commands.run('retry'), `${requeued}\npacs: was not backing off`);
    assert.equal(
      await commands.run('retry pacs'),
      `${requeued}\npacs: backoff ended, retrying now`,
    );
  });

  it('answers bad input with an error line, never a throw', async () => {
    const { commands } = fakeBox();
    const cases: Array<[string, RegExp]> = [
      ['bogus', /^error: unknown command "bogus" \(type help\)$/],
      ['set port 70000', /^error: config key "port": must be an integer/],
      ['set ae', /^error: usage: set KEY VALUE$/],
      ['node add x', /^error: usage: node add NAME AE HOST PORT \[forward\]$/],
      ['node add pacs PACS h 1', /^error: a node named "pacs" exists/],
      ['node add v V h 1 sideways', /^error: usage: node add/],
      ['node rm', /^error: usage: node rm NAME$/],
      ['node rm nobody', /^error: no node named "nobody" \(pacs\)$/],
      ['node set pacs port', /^error: usage: node set NAME KEY VALUE/],
      ['node set nobody port 1', /^error: no node named "nobody" \(pacs\)$/],
      ['node fly', /^error: usage: node list/],
      ['show', /^error: usage: show config$/],
      ['echo', /^error: usage: echo NAME$/],
      ['log -1', /^error: usage: log \[N\]$/],
      ['retry a b', /^error: usage: retry \[NAME\]$/],
      [
        'set a.b.c 1',
        /^error: config key "a\.b\.c": is not a setting name \(KEY or SECTION\.KEY, e\.g\. cache\.keepDays\)$/,
      ],
    ];
    for (const [line, expected] of cases) assert.match(await commands.run(line), expected, line);
    assert.equal(await commands.run('   '), '');
  });
});
