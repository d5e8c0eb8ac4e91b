// Configuration validation: a bad file is refused whole, naming the key.
import { strict as assert } from 'node:assert';
import {
  ConfigError,
  DEFAULTS,
  hostProblem,
  validateConfig,
  worklistSource,
} from '../../firmware/config/config';

describe('configuration', () => {
  it('runs on the embedded defaults with an empty file', () => {
    assert.deepEqual(validateConfig({}), DEFAULTS);
    assert.equal(DEFAULTS.ae, 'DICOM_EDGE');
    assert.equal(DEFAULTS.port, 11112);
    assert.equal(DEFAULTS.storageDir, './var');
  });

  it('accepts the example of PRODUCT.md', () => {
    const c = validateConfig({
      ae: 'DICOM_EDGE',
      port: 11112,
      storageDir: './var',
      acceptUnknownCallers: true,
      nodes: [
        { name: 'pacs', ae: 'PACS', host: '10.1.2.3', port: 104, forward: true },
        { name: 'viewer', ae: 'VIEWER', host: '192.168.1.20', port: 104 },
      ],
    });
    assert.equal(c.nodes.length, 2);
    assert.equal(c.nodes[1]!.forward, false);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', [], /top level/],
    ['unknown key', { aet: 'X' }, /"aet": is not a known setting/],
    ['AE too long', { ae: 'A'.repeat(17) }, /"ae": must be at most 16/],
    ['AE with backslash', { ae: 'A\\B' }, /"ae": may only hold/],
    ['AE all spaces', { ae: '   ' }, /"ae": must not be empty/],
    [
      'port zero without TLS',
      { port: 0 },
      /"port": may be 0 \(no plain listener\) only with a TLS listener/,
    ],
    ['port string', { port: '104' }, /"port"/],
    ['storageDir empty', { storageDir: '' }, /"storageDir"/],
    ['maxPduLength tiny', { maxPduLength: 100 }, /"maxPduLength"/],
    ['node without host', { nodes: [{ name: 'a', ae: 'A', port: 104 }] }, /"nodes\[0\]\.host"/],
    [
      'duplicate node name',
      {
        nodes: [
          { name: 'a', ae: 'A', host: 'h', port: 1 },
          { name: 'a', ae: 'B', host: 'h', port: 2 },
        ],
      },
      /"nodes\[1\]\.name"/,
    ],
    [
      'node forward not boolean',
      { nodes: [{ name: 'a', ae: 'A', host: 'h', port: 1, forward: 'yes' }] },
      /"nodes\[0\]\.forward"/,
    ],
    [
      'a TLS listener that requires client certificates and trusts no CA',
      { tls: { port: 2762, certificate: '/c.pem', privateKey: '/k.pem' } },
      /"tls\.trustedCertificates": is needed to check client certificates/,
    ],
    [
      'a relative certificate path',
      {
        tls: {
          port: 2762,
          certificate: 'c.pem',
          privateKey: '/k.pem',
          clientCertificates: 'optional',
        },
      },
      /"tls\.certificate": must be the absolute path of a PEM file/,
    ],
    [
      'the TLS port on the plain port',
      {
        port: 104,
        tls: { port: 104, certificate: '/c', privateKey: '/k', clientCertificates: 'optional' },
      },
      /"tls\.port": must differ from port/,
    ],
    [
      'an unknown TLS profile',
      {
        tls: {
          port: 2762,
          certificate: '/c',
          privateKey: '/k',
          trustedCertificates: '/ca',
          profile: 'ssl3',
        },
      },
      /"tls\.profile": must be one of bcp195-nd, bcp195, bcp195-ex/,
    ],
    [
      'a node certificate without its key',
      { nodes: [{ name: 'a', ae: 'A', host: 'h', port: 1, tls: { certificate: '/c' } }] },
      /"nodes\[0\]\.tls\.privateKey": and certificate go together/,
    ],
    [
      'a pinned fingerprint that is not SHA-256',
      { nodes: [{ name: 'a', ae: 'A', host: 'h', port: 1, tls: { pinnedSha256: 'AB:CD' } }] },
      /"nodes\[0\]\.tls\.pinnedSha256": must be a SHA-256 fingerprint/,
    ],
  ];
  for (const [what, raw, message] of bad) {
    it(`refuses ${what}, naming the key`, () => {
      assert.throws(
        () => validateConfig(raw),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }

  it('a misspelt key is refused with the nearest known one (issue 27)', () => {
    const node = { name: 'a', ae: 'A', host: 'h', port: 1 };
    const cases: Array<[unknown, RegExp]> = [
      [
        { forwarding: { idleSecs: 5 } },
        /^config key "forwarding\.idleSecs": is not a known setting; did you mean forwarding\.idleSeconds\?$/,
      ],
      [
        { nodes: [{ ...node, prot: 104 }] },
        /^config key "nodes\[0\]\.prot": is not a known setting; did you mean nodes\[0\]\.port\?$/,
      ],
      [
        { forwardng: {} },
        /^config key "forwardng": is not a known setting; did you mean forwarding\?$/,
      ],
      [{ colour: 'red' }, /^config key "colour": is not a known setting$/],
    ];
    for (const [raw, message] of cases) assert.throws(() => validateConfig(raw), { message });
  });

  it('a rule between two keys names the one the file sets (issue 27)', () => {
    const refused = (raw: unknown): ConfigError => {
      try {
        validateConfig(raw);
      } catch (err) {
        if (err instanceof ConfigError) return err;
      }
      throw new Error(`not refused: ${JSON.stringify(raw)}`);
    };
    const above = refused({ cache: { evictAbovePercent: 70 } });
    assert.equal(above.key, 'cache.evictAbovePercent');
    assert.match(above.message, /must be above cache\.evictToPercent \(80\)/);
    const to = refused({ cache: { evictToPercent: 95 } });
    assert.equal(to.key, 'cache.evictToPercent');
    assert.match(to.message, /must be below cache\.evictAbovePercent$/);
    assert.equal(
      refused({ cache: { evictAbovePercent: 70, evictToPercent: 75 } }).key,
      'cache.evictToPercent',
    );
    const initial = refused({ forwarding: { retryInitialSeconds: 1000 } });
    assert.equal(initial.key, 'forwarding.retryInitialSeconds');
    assert.match(initial.message, /must not be above retryMaxSeconds \(600\)/);
    assert.equal(
      refused({ forwarding: { retryInitialSeconds: 10, retryMaxSeconds: 5 } }).key,
      'forwarding.retryMaxSeconds',
    );
  });

  describe('a host: a DNS name (RFC 1123 labels) or an IP address', () => {
    const good = [
      'localhost',
      'pacs',
      'pacs.clinic.example',
      'PACS-01.Clinic.Example.',
      '3com.example',
      'a'.repeat(63) + '.example',
      '10.1.2.3',
      '0.0.0.0',
      '::',
      '::1',
      'fe80::1',
      '2001:db8::8a2e:370:7334',
      '::ffff:192.0.2.1',
    ];
    for (const host of good)
      it(`takes ${host.length > 30 ? `${host.slice(0, 12)}...` : host}`, () => {
        assert.equal(hostProblem(host), undefined);
      });
    const bad: Array<[unknown, RegExp]> = [
      ['1424', /not "1424"/], // a miscounted prompt: 0.0.5.144 to the resolver
      ['10.1.2', /not "10\.1\.2"/],
      ['10.1.2.3.4', /DNS name or an IP address/],
      ['256.1.2.3', /DNS name or an IP address/],
      ['0x0a.1.2.3', /DNS name or an IP address/],
      ['', /must not be empty/],
      [' pacs', /DNS name or an IP address/],
      ['pacs clinic', /DNS name or an IP address/],
      ['pacs_1', /DNS name or an IP address/],
      ['-pacs', /DNS name or an IP address/],
      ['pacs-.example', /DNS name or an IP address/],
      ['pacs..example', /DNS name or an IP address/],
      ['[::1]', /DNS name or an IP address/],
      ['2001:db8::g', /DNS name or an IP address/],
      ['10.1.2.3:104', /DNS name or an IP address/],
      ['http://pacs', /DNS name or an IP address/],
      ['a'.repeat(64) + '.example', /label of at most 63/],
      [`${'abcdefghi.'.repeat(25)}example`, /at most 253 characters/],
      [104, /must be a string/],
      [null, /must be a string/],
    ];
    for (const [host, message] of bad)
      it(`refuses ${JSON.stringify(host).slice(0, 30)}`, () => {
        assert.match(hostProblem(host) ?? '(taken)', message);
      });
    it("checks nodes' hosts, the listener's and the metrics' when the file is read", () => {
      const node = { name: 'a', ae: 'A', host: 'pacs', port: 104 };
      assert.throws(
        () => validateConfig({ nodes: [node, { ...node, name: 'b', host: '1424' }] }),
        /config key "nodes\[1\]\.host": must be a DNS name or an IP address, not "1424"/,
      );
      assert.throws(() => validateConfig({ host: '10.1.2' }), /config key "host": must be a DNS/);
      assert.throws(
        () => validateConfig({ metrics: { host: '1424' } }),
        /config key "metrics\.host": must be a DNS/,
      );
    });
  });

  it('takes a DICOMweb node: its URL, credentials from files, headers, batch limits', () => {
    const c = validateConfig({
      nodes: [
        {
          name: 'cloud',
          kind: 'dicomweb',
          url: 'https://archive.example/dicom-web/',
          forward: true,
          auth: { type: 'bearer', tokenFile: '/etc/dicom-edge/cloud.token' },
          headers: { 'X-Tenant': 'clinic-7' },
          batch: { maxInstances: 20 },
        },
      ],
    });
    assert.deepEqual(c.nodes[0], {
      name: 'cloud',
      kind: 'dicomweb',
      url: 'https://archive.example/dicom-web',
      forward: true,
      auth: { type: 'bearer', tokenFile: '/etc/dicom-edge/cloud.token' },
      headers: { 'X-Tenant': 'clinic-7' },
      batch: { maxInstances: 20, maxBytes: 64 * 1024 * 1024 },
      timeoutSeconds: 60,
    });
  });

  it('refuses a DICOMweb node that is wrong, with the key', () => {
    const web = (extra: Record<string, unknown>) => ({
      nodes: [{ name: 'cloud', kind: 'dicomweb', url: 'https://a.example/dicom-web', ...extra }],
    });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: 'ftp://a.example/x' }, /nodes\[0\]\.url": must be an http/],
      [{ url: 'not a url' }, /nodes\[0\]\.url": must be an http/],
      [{ url: 'https://user:pw@a.example/dicom-web' }, /credentials go in auth/],
      [{ url: 'http://a.example/dicom-web', tls: {} }, /nodes\[0\]\.tls": needs an https/],
      [{ ae: 'PACS' }, /nodes\[0\]\.ae": is not a known setting/],
      [
        { auth: { type: 'basic', user: 'u', passwordFile: 'pw.txt' } },
        /passwordFile": must be the absolute path/,
      ],
      [{ auth: { type: 'oauth' } }, /auth\.type": must be "basic"/],
      [
        { auth: { type: 'bearer', tokenFile: '/t', token: 'x' } },
        /auth\.token": is not a known setting/,
      ],
      [{ headers: { Authorization: 'Bearer x' } }, /is set by the box \(authorization: use auth\)/],
      [{ headers: { 'X-A': 'a\r\nX-B: b' } }, /must be text on one line/],
      [{ batch: { maxInstances: 0 } }, /batch\.maxInstances": must be an integer/],
      [{ timeoutSeconds: 0 }, /timeoutSeconds/],
      [{ kind: 'hl7' }, /nodes\[0\]\.kind": must be "dimse"/],
    ];
    for (const [extra, expected] of cases)
      assert.throws(
        () => validateConfig(web(extra)),
        (err: Error) => err instanceof ConfigError && expected.test(err.message),
        JSON.stringify(extra),
      );
  });

  it('takes a worklist source and its settings (issue 29), with the defaults', () => {
    const c = validateConfig({
      nodes: [{ name: 'ris', ae: 'RIS', host: '10.1.2.4', port: 104, worklistSource: true }],
      worklist: {
        intervalSeconds: 30,
        query: { stationAeTitles: ['CT1', 'US1'], modalities: ['CT'], daysAfter: 2 },
        checks: [{ when: { callingAe: 'CT*' }, coerce: true }, {}],
      },
    });
    assert.equal(worklistSource(c)?.name, 'ris');
    assert.equal(c.worklist.intervalSeconds, 30);
    assert.equal(c.worklist.maxAgeSeconds, 86400);
    assert.equal(c.worklist.maxItems, 10000);
    assert.deepEqual(c.worklist.query, {
      stationAeTitles: ['CT1', 'US1'],
      modalities: ['CT'],
      daysBefore: 0,
      daysAfter: 2,
    });
    assert.deepEqual(c.worklist.checks, [
      { when: { callingAe: ['CT*'] }, coerce: true },
      { coerce: false },
    ]);
    assert.equal(worklistSource(DEFAULTS), undefined);
  });

  it('refuses a worklist setting that is wrong, with the key (issue 29)', () => {
    const node = { ae: 'RIS', host: 'h', port: 104 };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        {
          nodes: [
            { name: 'a', ...node, worklistSource: true },
            { name: 'b', ...node, worklistSource: true },
          ],
        },
        /"nodes\[1\]\.worklistSource": only one node may be the worklist source \("a" is\)/,
      ],
      [
        { nodes: [{ name: 'w', kind: 'dicomweb', url: 'https://x/d', worklistSource: true }] },
        /"nodes\[0\]\.worklistSource": is not a known setting/,
      ],
      [{ worklist: { query: { modalities: ['ct'] } } }, /"worklist\.query\.modalities\[0\]"/],
      [
        { worklist: { query: { stationAeTitles: ['A\\B'] } } },
        /"worklist\.query\.stationAeTitles\[0\]"/,
      ],
      [{ worklist: { intervalSeconds: 0 } }, /"worklist\.intervalSeconds": must be a number/],
      [{ worklist: { maxItems: 0 } }, /"worklist\.maxItems"/],
      [
        { worklist: { checks: [{ when: { sopClassUid: '1.2' } }] } },
        /"worklist\.checks\[0\]\.when\.sopClassUid": is not a criterion of a check/,
      ],
      [{ worklist: { checks: [{ coerce: 'yes' }] } }, /"worklist\.checks\[0\]\.coerce"/],
    ];
    for (const [raw, expected] of cases)
      assert.throws(
        () => validateConfig(raw),
        (err: Error) => err instanceof ConfigError && expected.test(err.message),
        JSON.stringify(raw),
      );
  });
});
