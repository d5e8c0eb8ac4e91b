// sd_watchdog_enabled(3)'s rules, as firmware/systemd/watchdog.ts reads them: WATCHDOG_USEC
// gives the timeout, WATCHDOG_PID the process it is for; the box pings at half the timeout.
import { strict as assert } from 'node:assert';
import { watchdogInterval } from '../../firmware/systemd/watchdog';

describe('the watchdog interval from the service manager environment', () => {
  it('is half of WATCHDOG_USEC, in milliseconds', () => {
    assert.equal(watchdogInterval({ WATCHDOG_USEC: '30000000' }), 15_000);
    assert.equal(
      watchdogInterval({ WATCHDOG_USEC: '1000000', WATCHDOG_PID: String(process.pid) }),
      500,
    );
  });

  it('is none without WATCHDOG_USEC, with a bad one, or for another process', () => {
    assert.equal(watchdogInterval({}), undefined);
    assert.equal(watchdogInterval({ WATCHDOG_USEC: 'soon' }), undefined);
    assert.equal(watchdogInterval({ WATCHDOG_USEC: '0' }), undefined);
    assert.equal(watchdogInterval({ WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }), undefined);
  });
});
