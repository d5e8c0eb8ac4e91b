// The pure parts of forwarding: routing filters, backoff, failure verdicts, the rate
// limiter, and the forwarding configuration keys.
import { strict as assert } from 'node:assert';
import {
  commitPolicy,
  ConfigError,
  FORWARD_PARALLELISM,
  isDimse,
  validateConfig,
} from '../../firmware/config/config';
import { backoffDelay } from '../../firmware/forward/backoff';
import { verdictForStatus } from '../../firmware/dicom/dimse/status';
import { routeInstance, wildcardMatch } from '../../firmware/forward/routing';
import { RateLimiter } from '../../firmware/forward/throttle';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const ENHANCED_CT = '1.2.840.10008.5.1.4.1.1.2.1';

describe('forwarding rules', () => {
  it('matches wildcards * and ? and treats other characters literally', () => {
    assert.ok(wildcardMatch('CT*', 'CT_SCANNER'));
    assert.ok(wildcardMatch('C?', 'CT'));
    assert.ok(!wildcardMatch('C?', 'CTX'));
    assert.ok(wildcardMatch('1.2.840.10008.5.1.4.1.1.2*', ENHANCED_CT));
    assert.ok(!wildcardMatch('1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.20'));
    assert.ok(!wildcardMatch('1.2', '1x2'), 'a dot is a dot');
  });

  it('routes by node: forward flag, then every criterion (and), any pattern (or)', () => {
    const nodes = [
      { name: 'all', forward: true },
      { name: 'off', forward: false },
      { name: 'ct', forward: true, forwardWhen: { modality: ['CT'] } },
      {
        name: 'mr-from-scanner',
        forward: true,
        forwardWhen: { modality: ['MR'], callingAe: ['MR_*', 'SCANNER?'] },
      },
      { name: 'ct-class', forward: true, forwardWhen: { sopClassUid: [CT] } },
    ];
    assert.deepEqual(
      routeInstance(nodes, { callingAeTitle: 'X', modality: 'CT', sopClassUid: CT }),
      ['all', 'ct', 'ct-class'],
    );
    assert.deepEqual(
      routeInstance(nodes, { callingAeTitle: 'MR_1', modality: 'MR', sopClassUid: '1.2.3' }),
      ['all', 'mr-from-scanner'],
    );
    assert.deepEqual(
      routeInstance(nodes, { callingAeTitle: 'OTHER', modality: 'MR', sopClassUid: '1.2.3' }),
      ['all'],
    );
  });

  it('backs off exponentially from the initial delay, capped, with jitter in the upper half', () => {
    const policy = { initialMs: 5000, maxMs: 600_000 };
    assert.equal(
      backoffDelay(policy, 1, () => 1),
      5000,
    );
    assert.equal(
      backoffDelay(policy, 1, () => 0),
      2500,
    );
    assert.equal(
      backoffDelay(policy, 2, () => 1),
      10_000,
    );
    assert.equal(
      backoffDelay(policy, 8, () => 1),
      600_000,
    );
    assert.equal(
      backoffDelay(policy, 1000, () => 1),
      600_000,
    );
    for (let n = 1; n < 50; n++) {
      const d = backoffDelay(policy, n);
      assert.ok(d >= 2500 && d <= 600_000, `${n}: ${d}`);
    }
  });

  it('retries what the destination may take later, fails what it refuses for good', () => {
    assert.equal(verdictForStatus(0x0000), 'delivered');
    assert.equal(verdictForStatus(0xb000), 'delivered'); // warning: stored
    assert.equal(verdictForStatus(0xa700), 'transient');
    assert.equal(verdictForStatus(0xa7ff), 'transient');
    assert.equal(verdictForStatus(0x0213), 'transient');
    assert.equal(verdictForStatus(0x0122), 'permanent');
    assert.equal(verdictForStatus(0xa900), 'permanent');
    assert.equal(verdictForStatus(0xc000), 'permanent');
    assert.equal(verdictForStatus(0x0110), 'permanent');
  });

  it('caps the rate: 1 MB at 4 MB/s takes at least a fifth of a second', async () => {
    const limiter = new RateLimiter(4_000_000);
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 16; i++) yield Buffer.alloc(65536);
    }
    const started = Date.now();
    let bytes = 0;
    for await (const c of limiter.limit(source())) bytes += c.length;
    assert.equal(bytes, 1 << 20);
    assert.ok(Date.now() - started >= 190, `${Date.now() - started} ms`);
  });

  describe('configuration', () => {
    const good = { name: 'pacs', ae: 'PACS', host: 'h', port: 104, forward: true };
    it('defaults the commit policy to "forwarded" when a node forwards, else "stored"', () => {
      assert.equal(commitPolicy(validateConfig({})), 'stored');
      assert.equal(commitPolicy(validateConfig({ nodes: [good] })), 'forwarded');
      assert.equal(commitPolicy(validateConfig({ commit: 'stored', nodes: [good] })), 'stored');
    });

    it('accepts forwardWhen (a pattern or a list), maxBytesPerSecond and forwarding settings', () => {
      const c = validateConfig({
        forwarding: { retryInitialSeconds: 1, retryMaxSeconds: 60 },
        nodes: [
          {
            ...good,
            forwardWhen: { modality: 'CT', callingAe: ['A*', 'B?'] },
            maxBytesPerSecond: 1_000_000,
          },
        ],
      });
      assert.deepEqual(c.nodes[0]!.forwardWhen, { modality: ['CT'], callingAe: ['A*', 'B?'] });
      assert.equal(c.forwarding.retryInitialSeconds, 1);
      assert.equal(c.forwarding.instancesPerAssociation, 1000);
      assert.equal(c.forwarding.probeSeconds, 2, 'a backing-off destination is checked every 2 s');
    });

    it('takes how many associations and operations a DIMSE destination gets, absent when not said', () => {
      const c = validateConfig({
        nodes: [
          { ...good, associations: 1, asyncOperations: 16 },
          { ...good, name: 'b' },
        ],
      });
      assert.deepEqual(
        c.nodes.map((n) => isDimse(n) && [n.associations, n.asyncOperations]),
        [
          [1, 16],
          [undefined, undefined],
        ],
      );
      assert.deepEqual(FORWARD_PARALLELISM, { associations: 4, asyncOperations: 8 });
    });
    const bad: Array<[string, unknown, RegExp]> = [
      [
        'an unknown criterion',
        { nodes: [{ ...good, forwardWhen: { bodyPart: 'HEAD' } }] },
        /"nodes\[0\]\.forwardWhen\.bodyPart": is not a routing criterion/,
      ],
      [
        'an empty pattern list',
        { nodes: [{ ...good, forwardWhen: { modality: [] } }] },
        /"nodes\[0\]\.forwardWhen\.modality"/,
      ],
      [
        'a tiny bandwidth cap',
        { nodes: [{ ...good, maxBytesPerSecond: 10 }] },
        /"nodes\[0\]\.maxBytesPerSecond"/,
      ],
      [
        'max retry below initial',
        { forwarding: { retryInitialSeconds: 10, retryMaxSeconds: 5 } },
        /"forwarding\.retryMaxSeconds"/,
      ],
      [
        'a probe interval of 0',
        { forwarding: { probeSeconds: 0 } },
        /"forwarding\.probeSeconds": must be a number of seconds above 0 and at most 3600/,
      ],
      [
        'an unknown forwarding key',
        { forwarding: { retries: 3 } },
        /"forwarding\.retries": is not a known setting/,
      ],
      [
        'an unknown commit policy',
        { commit: 'sometimes' },
        /"commit": must be "stored" or "forwarded"/,
      ],
      ['a zero commit timeout', { commitTimeoutSeconds: 0 }, /"commitTimeoutSeconds"/],
      [
        'no association at all',
        { nodes: [{ ...good, associations: 0 }] },
        /"nodes\[0\]\.associations": must be an integer from 1 to 16/,
      ],
      [
        'more associations than a PACS would take',
        { nodes: [{ ...good, associations: 64 }] },
        /"nodes\[0\]\.associations": must be an integer from 1 to 16/,
      ],
      [
        'an operations window of 0',
        { nodes: [{ ...good, asyncOperations: 0 }] },
        /"nodes\[0\]\.asyncOperations": must be an integer from 1 to 64/,
      ],
      [
        'requestCommit that is not a boolean',
        { nodes: [{ ...good, requestCommit: 'yes' }] },
        /"nodes\[0\]\.requestCommit"/,
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
  });
});
