// Configuration validation: a bad file is refused whole, naming the key.
import { strict as assert } from 'node:assert';
import { ConfigError, DEFAULTS, validateConfig } from '../../firmware/config/config';

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
});
