// STOW-RS pieces without a network: the multipart body, the Store Instances Response
// (well-formed, truncated, oversized, garbage) and what the forwarder makes of each answer.
import { strict as assert } from 'node:assert';
import type { ForwardJob } from '../../storage/index';
import {
  multipartBody,
  multipartContentType,
  newBoundary,
} from '../../firmware/dicomweb/multipart';
import {
  judgeStow,
  MAX_RESPONSE_CHARS,
  parseStoreResponse,
  StowResponseError,
} from '../../firmware/dicomweb/stow-response';
import { batches } from '../../firmware/forward/stow-transport';

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of body) parts.push(b);
  return Buffer.concat(parts);
}

async function* chunks(...texts: string[]): AsyncGenerator<Buffer> {
  for (const t of texts) yield Buffer.from(t, 'latin1');
}

function item(sop: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00081155': { vr: 'UI', Value: [sop] },
    ...extra,
  };
}

function response(referenced: object[], failed: object[] = []): string {
  return JSON.stringify({
    '00081190': { vr: 'UR', Value: ['http://x/dicom-web/studies/1'] },
    ...(referenced.length ? { '00081199': { vr: 'SQ', Value: referenced } } : {}),
    ...(failed.length ? { '00081198': { vr: 'SQ', Value: failed } } : {}),
  });
}

describe('STOW-RS', () => {
  describe('multipart body', () => {
    it('frames each part as application/dicom and closes the body (RFC 2387)', async () => {
      const boundary = newBoundary(() => Buffer.alloc(16, 0xab));
      assert.equal(boundary, `dicom-edge-${'ab'.repeat(16)}`);
      assert.equal(
        multipartContentType(boundary),
        `multipart/related; type="application/dicom"; boundary=${boundary}`,
      );
      const body = await collect(
        multipartBody(boundary, [() => chunks('DICM', '-one'), () => chunks('two')]),
      );
      assert.equal(
        body.toString('latin1'),
        `--${boundary}\r\nContent-Type: application/dicom\r\n\r\nDICM-one\r\n` +
          `--${boundary}\r\nContent-Type: application/dicom\r\n\r\ntwo\r\n--${boundary}--\r\n`,
      );
    });

    it("streams: a part's bytes are asked for only when the body gets to it", async () => {
      const asked: number[] = [];
      const part = (n: number) => () => {
        asked.push(n);
        return chunks(`part${n}`);
      };
      const body = multipartBody('b', [part(1), part(2)]);
      await body.next();
      assert.deepEqual(asked, []);
      await body.next();
      assert.deepEqual(asked, [1]);
    });
  });

  describe('Store Instances Response', () => {
    it('reads referenced instances with their warnings and failed ones with their reasons', () => {
      const r = parseStoreResponse(
        response(
          [item('1.2.3'), item('1.2.4', { '00081196': { vr: 'US', Value: [0xb000] } })],
          [item('1.2.5', { '00081197': { vr: 'US', Value: [0xa900] } }), item('1.2.6')],
        ),
      );
      assert.deepEqual(
        [...r.referenced],
        [
          ['1.2.3', 0],
          ['1.2.4', 0xb000],
        ],
      );
      assert.deepEqual(
        [...r.failed],
        [
          ['1.2.5', 0xa900],
          ['1.2.6', 0xc000],
        ],
      );
      // Wrapped in an array, as some servers send it.
      assert.deepEqual(
        [...parseStoreResponse(`[${response([item('1.2.3')])}]`).referenced],
        [['1.2.3', 0]],
      );
    });

    it('refuses truncated, oversized and garbage bodies with StowResponseError', () => {
      const good = response([item('1.2.3')]);
      for (const bad of [
        good.slice(0, good.length - 5),
        'not json',
        '42',
        'null',
        JSON.stringify({ '00081199': { vr: 'SQ', Value: 'x' } }),
        JSON.stringify({ '00081199': { vr: 'SQ', Value: [{ '00081155': { Value: ['x.y'] } }] } }),
        JSON.stringify({ '00081199': { vr: 'SQ', Value: [{}] } }),
        ' '.repeat(MAX_RESPONSE_CHARS + 1),
      ])
        assert.throws(() => parseStoreResponse(bad), StowResponseError, bad.slice(0, 60));
      for (let i = 0; i < 200; i++) {
        const noise = Buffer.from(Array.from({ length: 40 }, () => (i * 37 + 11) % 256)).toString(
          'latin1',
        );
        try {
          parseStoreResponse(noise);
        } catch (err) {
          assert.ok(err instanceof StowResponseError);
        }
      }
    });
  });

  describe("the forwarder's verdict", () => {
    const sops = ['1.2.3', '1.2.4'];
    const judge = (status: number, body = '') => judgeStow(status, body, sops, 'cloud');

    it('200: all delivered; a warning is kept as the status', () => {
      const v = judge(
        200,
        response([item('1.2.3'), item('1.2.4', { '00081196': { vr: 'US', Value: [0xb007] } })]),
      );
      assert.equal(v.kind, 'per-instance');
      if (v.kind !== 'per-instance') return;
      assert.deepEqual(v.verdicts.get('1.2.3'), { kind: 'delivered', status: 0 });
      assert.deepEqual(v.verdicts.get('1.2.4'), { kind: 'delivered', status: 0xb007 });
      const bare = judge(200);
      assert.ok(bare.kind === 'per-instance' && bare.verdicts.get('1.2.4')?.kind === 'delivered');
    });

    it('202 with failures: refused for good, or retried when out of resources', () => {
      const v = judge(
        202,
        response([item('1.2.3')], [item('1.2.4', { '00081197': { vr: 'US', Value: [0xa900] } })]),
      );
      assert.ok(v.kind === 'per-instance');
      assert.deepEqual(v.verdicts.get('1.2.4'), {
        kind: 'failed',
        status: 0xa900,
        reason: 'cloud refused it: Failure Reason 0xA900',
      });
      const full = judge(
        409,
        response([], [item('1.2.3', { '00081197': { vr: 'US', Value: [0xa700] } })]),
      );
      assert.ok(full.kind === 'per-instance');
      assert.equal(full.verdicts.get('1.2.3')?.kind, 'retry');
      // 409 and not listed as failed: the server holds it already.
      assert.deepEqual(full.verdicts.get('1.2.4'), { kind: 'delivered', status: 0 });
    });

    it('409 without a body: held already, delivered', () => {
      const v = judge(409);
      assert.ok(v.kind === 'per-instance');
      assert.deepEqual(
        [...v.verdicts.values()].map((x) => x.kind),
        ['delivered', 'delivered'],
      );
    });

    it('401/403: the credentials, said so; 5xx, 408, 429: the destination', () => {
      for (const status of [401, 403]) {
        const v = judge(status);
        assert.equal(v.kind, 'destination');
        assert.match(v.kind === 'destination' ? v.reason : '', /credentials refused/);
      }
      for (const status of [500, 502, 503, 504, 408, 429])
        assert.equal(judge(status).kind, 'destination');
    });

    it('0xC122, or 415 to a request of one instance: refused for its transfer syntax', () => {
      const v = judge(
        409,
        response([], [item('1.2.3', { '00081197': { vr: 'US', Value: [0xc122] } })]),
      );
      assert.ok(v.kind === 'per-instance');
      assert.deepEqual(v.verdicts.get('1.2.3'), {
        kind: 'failed',
        status: 0xc122,
        reason: 'cloud refused it: Failure Reason 0xC122',
        syntaxRefused: true,
      });
      const alone = judgeStow(415, 'JPEG-LS not supported', ['1.2.3'], 'cloud');
      assert.ok(alone.kind === 'per-instance');
      assert.deepEqual(alone.verdicts.get('1.2.3'), {
        kind: 'failed',
        status: null,
        reason: 'cloud answered HTTP 415: JPEG-LS not supported',
        syntaxRefused: true,
      });
    });

    it('400 or 415 with no word per instance: isolate them', () => {
      assert.equal(judge(400, 'bad multipart').kind, 'isolate');
      assert.equal(judge(415).kind, 'isolate');
      assert.equal(judge(400, 'garbage { not json').kind, 'isolate');
    });
  });

  it('cuts the queue into requests by count and size', () => {
    const job = (size: number) => ({ size }) as ForwardJob;
    const limits = { maxInstances: 3, maxBytes: 100 };
    const sizes = (b: ForwardJob[][]) => b.map((x) => x.map((j) => j.size));
    assert.deepEqual(sizes(batches([1, 1, 1, 1, 1, 1, 1].map(job), limits)), [
      [1, 1, 1],
      [1, 1, 1],
      [1],
    ]);
    assert.deepEqual(sizes(batches([60, 50, 200, 10].map(job), limits)), [[60], [50], [200], [10]]);
    assert.deepEqual(sizes(batches([], limits)), []);
  });
});
