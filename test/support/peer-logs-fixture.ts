// A spec for test/integration/make-and-logs.test.ts to run in a mocha of its own: two
// tests whose peer (dcmjs-dimse's logger) speaks; one passes, one fails on purpose.
import { strict as assert } from 'node:assert';

/* eslint-disable-next-line @typescript-eslint/no-require-imports */
const { log } = require('dcmjs-dimse') as { log: { info(...args: unknown[]): void } };

describe('a peer that talks', () => {
  it('passes', () => {
    log.info('PASSING-PEER-LINE association request');
  });

  it('fails', () => {
    log.info('FAILING-PEER-LINE association request');
    assert.fail('on purpose');
  });
});
