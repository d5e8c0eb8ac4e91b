// The Ethernet port's systemd-networkd file (systemd.network(5)), written by the setup
// helper and read back by the dashboard to show the current setting. Pure text functions.
import { isIPv4 } from 'node:net';
import { ETHERNET_INTERFACE, type EthernetSetting } from './setup-request';

export function renderNetworkFile(setting: EthernetSetting): string {
  const head = [
    '# The Ethernet port, as set on the dashboard (tty1, key s); this file is rewritten by',
    '# dicom-edge-apply-setup.service.',
    '[Match]',
    `Name=${ETHERNET_INTERFACE}`,
    '',
    '[Network]',
  ];
  if (setting.mode === 'dhcp') return [...head, 'DHCP=yes', ''].join('\n');
  return [
    ...head,
    `Address=${setting.address}`,
    ...(setting.gateway ? [`Gateway=${setting.gateway}`] : []),
    ...setting.dns.map((d) => `DNS=${d}`),
    '',
  ].join('\n');
}

/** The setting a file holds; DHCP unless it names a static address. */
export function parseNetworkFile(text: string): EthernetSetting {
  const values = (key: string): string[] =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith(`${key}=`))
      .map((l) => l.slice(key.length + 1).trim());
  const [address] = values('Address');
  if (!address) return { mode: 'dhcp' };
  const [gateway] = values('Gateway');
  return {
    mode: 'static',
    address,
    ...(gateway ? { gateway } : {}),
    dns: values('DNS')
      .flatMap((d) => d.split(/\s+/))
      .filter((d) => isIPv4(d)),
  };
}

/** One line for the dashboard: "DHCP" or "static 10.0.2.20/24 via 10.0.2.2, DNS 10.0.2.3". */
export function describeEthernet(setting: EthernetSetting): string {
  if (setting.mode === 'dhcp') return 'DHCP';
  const via = setting.gateway ? ` via ${setting.gateway}` : '';
  const dns = setting.dns.length ? `, DNS ${setting.dns.join(' ')}` : '';
  return `static ${setting.address}${via}${dns}`;
}
