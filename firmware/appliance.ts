// Wiring only: the cache, the index, the services and the listener of a running box.
import * as path from 'node:path';
import { Cache } from '../storage/cache';
import { Index } from '../storage/index';
import { InstanceStore } from '../storage/instance-store';
import type { Config } from './config/config';
import { CommandField } from './dicom/dimse/command-field';
import { log } from './log';
import { ScpServer } from './scp-server';
import { cEchoScp } from './services/echo-scp';
import { cStoreScp } from './services/store-scp';

export interface RunningAppliance {
  readonly port: number;
  readonly store: InstanceStore;
  readonly server: ScpServer;
  stop(): Promise<void>;
}

export function indexPath(storageDir: string): string {
  return path.join(storageDir, 'index.sqlite');
}

export async function startAppliance(config: Config): Promise<RunningAppliance> {
  const cache = new Cache(config.storageDir);
  const removed = await cache.init();
  if (removed > 0) log.info('removed temp files left by an interrupted run', { count: removed });
  const index = await Index.open(indexPath(config.storageDir));
  const store = new InstanceStore(cache, index);
  const server = new ScpServer(
    config,
    new Map([
      [CommandField.CEchoRq, cEchoScp],
      [CommandField.CStoreRq, cStoreScp(store)],
    ]),
  );
  const address = await server.listen();
  return {
    port: address.port,
    store,
    server,
    async stop() {
      await server.close();
      await index.close();
    },
  };
}
