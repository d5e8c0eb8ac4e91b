// `make bench`, what monitoring costs: the box with its metrics endpoint on, idle, for 30 s
// unscraped and 30 s scraped every 5 s (CPU of the box process from /proc, in % of one
// core); then 400 CT-like instances from one storescu, best of three, to the box unscraped
// and to the box scraped every 5 s and every second meanwhile; and the size of a scrape.
import { promises as fs, readFileSync } from 'node:fs';
import { freePort, tempDir } from '../test/support/peers';
import { sendWithStorescu, startBoxProcess, writeCtSet } from './bench-support';

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Scrapes every `everyMs` until stopped; resolves with the scrape sizes. */
function scraper(port: number, everyMs: number): { stop: () => Promise<number[]> } {
  const sizes: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      sizes.push((await res.arrayBuffer()).byteLength);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return sizes;
    },
  };
}

async function idleCpu(pid: number, seconds: number): Promise<number> {
  const before = cpuSeconds(pid);
  await sleep(seconds * 1000);
  return ((cpuSeconds(pid) - before) / seconds) * 100;
}

async function main(): Promise<void> {
  const metricsPort = await freePort();
  const box = await startBoxProcess({ metrics: { port: metricsPort, host: '127.0.0.1' } });
  let sizes: number[] = [];
  try {
    await sleep(2000); // past start-up
    const quiet = await idleCpu(box.pid, 30);
    const s = scraper(metricsPort, 5000);
    const scraped = await idleCpu(box.pid, 30);
    sizes = await s.stop();
    process.stdout.write(
      `\nidle box, CPU of one core: unscraped ${quiet.toFixed(2)} %, scraped every 5 s ${scraped.toFixed(2)} % ` +
        `(+${(scraped - quiet).toFixed(2)} %); a scrape is ${(sizes.at(-1)! / 1024).toFixed(1)} KB\n`,
    );
  } finally {
    await box.stop();
  }

  const work = tempDir('bench-metrics');
  const files = await writeCtSet(work, 400, 970);
  const mb =
    (await Promise.all(files.map((f) => fs.stat(f)))).reduce((n, st) => n + st.size, 0) / 1e6;
  const every = { plain: 0, '5 s': 5000, '1 s': 1000 } as const;
  const best = { plain: Infinity, '5 s': Infinity, '1 s': Infinity };
  for (let round = 0; round < 3; round++) {
    for (const kind of ['5 s', 'plain', '1 s'] as const) {
      const port = await freePort();
      const b = await startBoxProcess({ metrics: { port, host: '127.0.0.1' } });
      const s = every[kind] ? scraper(port, every[kind]) : undefined;
      try {
        best[kind] = Math.min(best[kind], await sendWithStorescu(b.port, 'DICOM_EDGE', files));
      } finally {
        await s?.stop();
        await b.stop();
      }
    }
  }
  await fs.rm(work, { recursive: true, force: true });
  process.stdout.write(
    `ingest, 400 instances, one storescu, best of 3: unscraped ${(mb / best.plain).toFixed(0)} MB/s, ` +
      `scraped every 5 s ${(mb / best['5 s']).toFixed(0)} MB/s (ratio ${(best.plain / best['5 s']).toFixed(2)}), ` +
      `every second ${(mb / best['1 s']).toFixed(0)} MB/s (ratio ${(best.plain / best['1 s']).toFixed(2)})\n`,
  );
}

void main();
