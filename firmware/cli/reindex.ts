// `dicom-edge reindex [--config F]`: rebuild the index from the cache files (box stopped).
import { indexPath } from '../appliance';
import { loadConfig } from '../config/load';
import { Cache } from '../../storage/cache';
import { Index } from '../../storage/index';
import { reindex } from '../../storage/reindex';
import { one, parseArgs } from './args';

export async function reindexCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config']);
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  const cache = new Cache(config.storageDir);
  await cache.init();
  const index = await Index.open(indexPath(config.storageDir));
  try {
    const report = await reindex(cache, index);
    for (const s of report.skipped) process.stdout.write(`skipped ${s.path}: ${s.reason}\n`);
    process.stdout.write(
      `${report.indexed} instances indexed, ${report.skipped.length} files skipped\n`,
    );
    return report.skipped.length === 0 ? 0 : 1;
  } finally {
    await index.close();
  }
}
