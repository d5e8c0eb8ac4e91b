// Which durability protocol the cache uses where (storage/durability.ts): one flush per
// instance on ext4 with ordered data, POSIX's fsync-rename-fsync everywhere else.
import { strict as assert } from 'node:assert';
import { modeFor, mountOf } from '../../storage/durability';

const MOUNTS = [
  'sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0',
  '/dev/root / ext4 rw,relatime 0 0',
  '/dev/mmcblk0p3 /var/lib/dicom-edge ext4 rw,noatime,commit=30 0 0',
  'tmpfs /var/lib/dicom-edge/tmp tmpfs rw,size=1024k 0 0',
  '/dev/loop7 /tmp/a\\040b ext4 rw,relatime,data=writeback 0 0',
  'garbage',
  '',
].join('\n');

describe('durability: the protocol for the filesystem holding the cache', () => {
  it('finds the longest mount point holding a path, not one that only shares a prefix', () => {
    assert.equal(
      mountOf(MOUNTS, '/var/lib/dicom-edge/var/cache')?.mountPoint,
      '/var/lib/dicom-edge',
    );
    assert.equal(mountOf(MOUNTS, '/var/lib/dicom-edge/tmp/x')?.fsType, 'tmpfs');
    assert.equal(mountOf(MOUNTS, '/var/lib/dicom-edgeX/cache')?.mountPoint, '/');
    assert.equal(mountOf(MOUNTS, '/var/lib/dicom-edge')?.mountPoint, '/var/lib/dicom-edge');
  });

  it('reads octal escapes in mount points (a space is \\040)', () => {
    const m = mountOf(MOUNTS, '/tmp/a b/cache');
    assert.equal(m?.mountPoint, '/tmp/a b');
    assert.ok(m?.options.includes('data=writeback'));
  });

  it('one flush on ext4 with ordered or journalled data; strict on anything else', () => {
    assert.equal(modeFor('ext4', ['rw', 'noatime']), 'journal');
    assert.equal(modeFor('ext4', ['rw', 'data=journal']), 'journal');
    assert.equal(modeFor('ext4', ['rw', 'data=writeback']), 'strict');
    assert.equal(modeFor('ext3', ['rw']), 'strict');
    assert.equal(modeFor('tmpfs', ['rw']), 'strict');
    assert.equal(modeFor('btrfs', ['rw']), 'strict');
  });

  it('takes nothing from an empty or garbled mount table', () => {
    assert.equal(mountOf('', '/x'), undefined);
    assert.equal(mountOf('one two\n\n', '/x'), undefined);
  });
});
