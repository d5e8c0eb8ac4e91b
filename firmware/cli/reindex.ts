// `dicom-edge reindex [--config F]`: rebuild the index from the cache files (box stopped).
import { indexPath } from '../../storage/archive';
import { loadConfig } from '../config/load';
import { StorageInUseError } from '../control/control-client';
import { ControlServer } from '../control/control-server';
import { routeInstance } from '../forward/routing';
import { Cache } from '../../storage/cache';
import { Index } from '../../storage/index';
import { reindex } from '../../storage/reindex';
import type { Command } from 'commander';
import { exits, withConfigOption, type ConfigOption } from './args';

export function reindexCommand(program: Command): void {
  withConfigOption(
    program
      .command('reindex')
      .summary('rebuild the index from the cache files (box stopped)')
      .description(
        "Rebuild the index from the cache files, with the box stopped: each file's " +
          'instance is indexed and queued for forwarding by the routing. Exit 1 when ' +
          'files were skipped (listed with why).',
      ),
  ).action(exits(runReindex));
}

async function runReindex(options: ConfigOption): Promise<number> {
  const { config } = loadConfig(options.config);
  // Holding the control socket for the whole run: a running box on this storage directory
  // makes it refuse (its temp files and index are in use), and a box started meanwhile
  // refuses to start. A status request meanwhile says what is going on.
  const control = new ControlServer(config.storageDir, {
    status: () => ({ reindexing: true }),
  });
  try {
    await control.listen();
  } catch (err) {
    throw new StorageInUseError(
      `${(err as Error).message}; stop it first (reindex rebuilds the index the box is using)`,
    );
  }
  try {
    const cache = new Cache(config.storageDir);
    await cache.init();
    const index = await Index.open(indexPath(config.storageDir));
    try {
      const report = await reindex(cache, index, (facts) => routeInstance(config.nodes, facts));
      for (const s of report.skipped) process.stdout.write(`skipped ${s.path}: ${s.reason}\n`);
      process.stdout.write(
        `${report.indexed} instances indexed, ${report.skipped.length} files skipped\n`,
      );
      return report.skipped.length === 0 ? 0 : 1;
    } finally {
      await index.close();
    }
  } finally {
    await control.close();
  }
}
