// The SD-card image's parts as the boot test needs them, read without mounting: the
// partition table (sfdisk), and from the FAT boot partition (mtools) the kernel, the
// initrd and the kernel command line the Pi's firmware would load (config.txt, cmdline.txt).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { run } from './peers';

export interface Partition {
  readonly start: number;
  readonly size: number;
}

/** The image's partitions, in bytes from its start (MBR, 512-byte sectors). */
export async function partitions(image: string): Promise<Partition[]> {
  const r = await run('sfdisk', ['--json', image]);
  if (r.code !== 0) throw new Error(`sfdisk --json ${image}: ${r.stderr}`);
  const table = JSON.parse(r.stdout) as {
    partitiontable: { partitions: Array<{ start: number; size: number }> };
  };
  return table.partitiontable.partitions.map((p) => ({ start: p.start * 512, size: p.size * 512 }));
}

async function bootFile(image: string, offset: number, name: string, to?: string): Promise<string> {
  const r = await run('mcopy', ['-n', '-i', `${image}@@${offset}`, `::/${name}`, to ?? '-']);
  if (r.code !== 0) throw new Error(`mcopy ${name} from the boot partition: ${r.stderr}`);
  return r.stdout;
}

export interface BootFiles {
  readonly kernel: string;
  readonly initrd: string;
  /** cmdline.txt as the Pi's firmware passes it to the kernel. */
  readonly cmdline: string;
}

/** Copies the kernel and initrd config.txt names into dir; returns them with cmdline.txt. */
export async function extractBootFiles(image: string, dir: string): Promise<BootFiles> {
  const [boot] = await partitions(image);
  if (!boot) throw new Error(`${image} has no partition`);
  const config = await bootFile(image, boot.start, 'config.txt');
  const kernelName = /^kernel=(\S+)/m.exec(config)?.[1];
  const initrdName = /^initramfs\s+(\S+)/m.exec(config)?.[1];
  if (!kernelName || !initrdName)
    throw new Error(`config.txt names no kernel or initramfs:\n${config}`);
  const kernel = path.join(dir, 'kernel');
  const initrd = path.join(dir, 'initrd');
  await bootFile(image, boot.start, kernelName, kernel);
  await bootFile(image, boot.start, initrdName, initrd);
  await fs.access(kernel);
  const cmdline = (await bootFile(image, boot.start, 'cmdline.txt')).trim();
  return { kernel, initrd, cmdline };
}
