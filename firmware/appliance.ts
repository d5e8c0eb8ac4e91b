// Wiring only: the cache, the index, the services and the listener of a running box.
import * as path from 'node:path';
import { Cache } from '../storage/cache';
import { Index } from '../storage/index';
import { InstanceStore } from '../storage/instance-store';
import type { Config, SerialConfig } from './config/config';
import { controlRequest } from './control/control-client';
import { ConsoleCommands } from '../ui-tty/console-commands';
import { SerialConsoles } from '../ui-tty/serial-console';
import { LiveConfig } from './config/live-config';
import { CommandField } from './dicom/dimse/command-field';
import { ControlServer, type ControlHandler } from './control/control-server';
import { HealthMonitor } from './control/health';
import { collectStatus, RecentEvents, ThroughputMeter } from './control/status';
import { Forwarder } from './forward/forwarder';
import { log } from './log';
import { ScpServer } from './scp-server';
import { cEchoScp } from './services/echo-scp';
import { CommitmentReporter } from './services/commitment/commitment-reporter';
import { nEventReportScp } from './services/commitment/commitment-report-scp';
import { nActionScp } from './services/commitment/commitment-scp';
import { cFindScp } from './services/find-scp';
import { cGetScp, cMoveScp } from './services/retrieve-scp';
import { cStoreScp } from './services/store-scp';

export interface RunningAppliance {
  /** The port listened on now (a configuration change may move it). */
  readonly port: number;
  readonly liveConfig: LiveConfig;
  readonly store: InstanceStore;
  readonly server: ScpServer;
  readonly forwarder: Forwarder;
  readonly control: ControlServer;
  stop(): Promise<void>;
}

/** The firmware version, from package.json. */
/* eslint-disable-next-line @typescript-eslint/no-require-imports */
export const VERSION: string = (require('../../package.json') as { version: string }).version;

export function indexPath(storageDir: string): string {
  return path.join(storageDir, 'index.sqlite');
}

export interface ApplianceOptions {
  /** A serial console given on the command line (--serial); it outranks the config's. */
  readonly serial?: SerialConfig;
}

/**
 * Starts the box. With `configFile`, configuration changes made through the control API
 * are written there (atomically); without it they apply to the running box only.
 */
export async function startAppliance(
  initial: Config,
  configFile?: string,
  options: ApplianceOptions = {},
): Promise<RunningAppliance> {
  const live = new LiveConfig(initial, configFile);
  const config = (): Config => live.get();
  const { storageDir } = initial;
  const cache = new Cache(storageDir);
  const removed = await cache.init();
  if (removed > 0) log.info('removed temp files left by an interrupted run', { count: removed });
  const index = await Index.open(indexPath(storageDir));
  const startedAt = new Date();
  const events = new RecentEvents();
  const reporter = new CommitmentReporter(index, config);
  const forwarder = new Forwarder(initial, index, cache, () => reporter.nudge());
  const store = new InstanceStore(
    cache,
    index,
    (facts) => forwarder.route(facts),
    (destinations) => forwarder.wake(destinations),
  );
  store.onStored = () => reporter.nudge();
  const control = new ControlServer(
    storageDir,
    new Map<string, ControlHandler>([
      ['config', () => live.view()],
      [
        'config-set',
        (request) => {
          const set = request.set;
          if (typeof set !== 'object' || set === null || Array.isArray(set))
            throw new Error('config-set needs "set": an object of keys and values');
          return live.change(set as Record<string, unknown>);
        },
      ],
      ['queue', () => forwarder.report()],
      [
        'commit-report',
        (request) => {
          if (typeof request.transaction !== 'string')
            throw new Error('commit-report needs a "transaction" UID');
          return index.commitReport(request.transaction);
        },
      ],
      [
        'retry',
        (request) =>
          forwarder.retry(
            typeof request.destination === 'string' ? request.destination : undefined,
          ),
      ],
      [
        'echo',
        async (request) => {
          if (typeof request.node !== 'string') throw new Error('echo needs a "node" name');
          return { status: await forwarder.echo(request.node) };
        },
      ],
      [
        'status',
        () =>
          collectStatus({
            config: config(),
            index,
            forwarder,
            server,
            throughput,
            health,
            startedAt,
            events,
            version: VERSION,
          }),
      ],
    ]),
  );
  await control.listen();
  const server = new ScpServer(
    initial,
    new Map([
      [CommandField.CEchoRq, cEchoScp],
      [CommandField.CStoreRq, cStoreScp(store)],
      [CommandField.CFindRq, cFindScp(index, () => config().ae)],
      [CommandField.CMoveRq, cMoveScp({ index, cache, config })],
      [CommandField.CGetRq, cGetScp({ index, cache, config })],
      [CommandField.NActionRq, nActionScp(index, reporter, () => config().commitTimeoutSeconds)],
      [CommandField.NEventReportRq, nEventReportScp(index)],
    ]),
  );
  await server.listen();
  const throughput = new ThroughputMeter(() => server.bytesReceived);
  const health = new HealthMonitor();
  live.use((next) => server.prepare(next));
  live.onApplied((next) => forwarder.apply(next));
  const consoles = new SerialConsoles(
    new ConsoleCommands((request) => controlRequest(storageDir, request)),
  );
  if (options.serial) consoles.open(options.serial);
  else {
    consoles.open(initial.serial);
    live.onApplied((next) => consoles.open(next.serial));
  }
  let stopping: Promise<void> | undefined;
  forwarder.start();
  reporter.start();
  return {
    get port() {
      return server.address.port;
    },
    liveConfig: live,
    store,
    server,
    forwarder,
    control,
    stop() {
      // Idempotent: a second call waits for the first.
      stopping ??= (async () => {
        await server.close();
        await consoles.close();
        reporter.stop();
        await forwarder.stop();
        await control.close();
        events.close();
        throughput.close();
        await index.close();
      })();
      return stopping;
    },
  };
}
