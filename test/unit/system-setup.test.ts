// The rules of the image's system set-up (firmware/system-setup/): what the dashboard asks
// and the root helper accepts, and the systemd-networkd file written for each setting. The
// whole path (tty1, the helper, networkd) is tested in the booted image (make image-test).
import { strict as assert } from 'node:assert';
import {
  describeEthernet,
  parseNetworkFile,
  renderNetworkFile,
} from '../../firmware/system-setup/network-file';
import {
  parseSetupRequest,
  readAddress,
  readHostname,
  readTimezone,
  SetupRequestError,
} from '../../firmware/system-setup/setup-request';

describe('system set-up of the image (firmware/system-setup)', () => {
  it('takes an IPv4 address with a prefix, /24 when none is typed, and refuses anything else', () => {
    assert.equal(readAddress('10.0.2.20/24'), '10.0.2.20/24');
    assert.equal(readAddress(' 192.168.1.7 '), '192.168.1.7/24');
    for (const wrong of [
      '10.0.2.256/24',
      '10.0.2/24',
      '10.0.2.20/33',
      '10.0.2.20/0',
      'fe80::1/64',
      '10.0.2.20/24/1',
    ]) {
      assert.throws(() => readAddress(wrong), SetupRequestError, wrong);
    }
  });

  it('takes RFC 1123 host names (lower-cased) and tz database names, nothing a path could escape with', () => {
    assert.equal(readHostname('Clinic-PI'), 'clinic-pi');
    for (const wrong of ['-pi', 'pi-', 'pi_1', 'a'.repeat(64), '', 'pi box']) {
      assert.throws(() => readHostname(wrong), SetupRequestError, wrong);
    }
    assert.equal(readTimezone('America/Argentina/Buenos_Aires'), 'America/Argentina/Buenos_Aires');
    assert.equal(readTimezone('Etc/GMT+3'), 'Etc/GMT+3');
    for (const wrong of ['../../etc/shadow', 'Europe/../../x', '/etc/passwd', 'Europe Paris', '']) {
      assert.throws(() => readTimezone(wrong), SetupRequestError, wrong);
    }
  });

  it('refuses a request whole when one field breaks a rule', () => {
    const ok = parseSetupRequest({
      id: 'a1',
      ethernet: { mode: 'static', address: '10.0.2.20/24', gateway: '10.0.2.2', dns: ['10.0.2.3'] },
      hostname: 'pi',
    });
    assert.deepEqual(ok.ethernet, {
      mode: 'static',
      address: '10.0.2.20/24',
      gateway: '10.0.2.2',
      dns: ['10.0.2.3'],
    });
    assert.throws(
      () =>
        parseSetupRequest({
          id: 'a1',
          ethernet: { mode: 'static', address: '10.0.2.20', dns: ['x'] },
        }),
      /dns/,
    );
    assert.throws(() => parseSetupRequest({ id: '../x' }), /id/);
    assert.throws(() => parseSetupRequest({ id: 'a1', ethernet: { mode: 'bridge' } }), /ethernet/);
  });

  it('writes a networkd file for DHCP and for a static address, and reads the setting back from it', () => {
    const dhcp = renderNetworkFile({ mode: 'dhcp' });
    assert.match(dhcp, /^\[Match\]\nName=eth0\n\n\[Network\]\nDHCP=yes\n$/m);
    assert.deepEqual(parseNetworkFile(dhcp), { mode: 'dhcp' });
    const setting = {
      mode: 'static' as const,
      address: '10.0.2.20/24',
      gateway: '10.0.2.2',
      dns: ['10.0.2.3', '9.9.9.9'],
    };
    const text = renderNetworkFile(setting);
    assert.match(
      text,
      /\nAddress=10\.0\.2\.20\/24\nGateway=10\.0\.2\.2\nDNS=10\.0\.2\.3\nDNS=9\.9\.9\.9\n$/,
    );
    assert.doesNotMatch(text, /DHCP/);
    assert.deepEqual(parseNetworkFile(text), setting);
    assert.equal(
      describeEthernet(setting),
      'static 10.0.2.20/24 via 10.0.2.2, DNS 10.0.2.3 9.9.9.9',
    );
  });
});
