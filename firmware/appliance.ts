// Wiring only: the cache, the index, the services and the listener of a running box.
import * as path from 'node:path';
import { Cache } from '../storage/cache';
import { Evictor } from '../storage/evictor';
import { cacheReport } from './control/cache-report';
import {
  checkCacheAtStart,
  markCleanStop,
  verifyCache,
  type ConsistencyReport,
} from '../storage/consistency';
import { Index } from '../storage/index';
import { InstanceStore } from '../storage/instance-store';
import type { Config, SerialConfig } from './config/config';
import { controlRequest } from './control/control-client';
import { ControlCommandError, RETRY_LISTED, type RetryResult } from './control/commands';
import { ConsoleCommands } from '../ui-tty/console-commands';
import { SerialConsoles } from '../ui-tty/serial-console';
import { LiveConfig } from './config/live-config';
import { CommandField } from './dicom/dimse/command-field';
import { ControlServer } from './control/control-server';
import { HealthMonitor } from './control/health';
import {
  collectCoreStatus,
  collectStatus,
  RecentEvents,
  ThroughputMeter,
  type StatusSources,
} from './control/status';
import { Forwarder } from './forward/forwarder';
import { log } from './log';
import { ScpServer } from './scp-server';
import { TlsListener } from './tls/tls-listener';
import { BoxMetrics } from './metrics/box-metrics';
import { MetricsEndpoint, type Readiness } from './metrics/metrics-server';
import { commandName } from './dicom/dimse/command-field';
import type { ServiceHandler } from './services/service';
import { cEchoScp } from './services/echo-scp';
import { CommitmentReporter } from './services/commitment/commitment-reporter';
import { nEventReportScp } from './services/commitment/commitment-report-scp';
import { nActionScp } from './services/commitment/commitment-scp';
import { cFindScp } from './services/find-scp';
import { cGetScp, cMoveScp } from './services/retrieve-scp';
import { cStoreScp } from './services/store-scp';
import { VERSION } from './version';

export interface RunningAppliance {
  /** The port listened on now (a configuration change may move it). */
  readonly port: number;
  readonly liveConfig: LiveConfig;
  readonly store: InstanceStore;
  readonly server: ScpServer;
  readonly forwarder: Forwarder;
  readonly evictor: Evictor;
  readonly control: ControlServer;
  /** What the start-up check found (checked: false after a clean stop). */
  readonly startupCheck: ConsistencyReport;
  stop(): Promise<void>;
}

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
  const { storageDir } = initial;
  // The control socket first: it is the lock that keeps a second box off this storage
  // directory, so nothing below (temp clean-up, the cache check) runs under a live box.
  const control = new ControlServer(storageDir);
  await control.listen();
  const undo: Array<() => Promise<unknown>> = [() => control.close()];
  try {
    return await startOn(control, live, options, undo);
  } catch (err) {
    // A box that cannot start leaves nothing running: no listener, no socket, no index.
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw err;
  }
}

/** The rest of the start, under the control socket; `undo` collects what a failure closes. */
async function startOn(
  control: ControlServer,
  live: LiveConfig,
  options: ApplianceOptions,
  undo: Array<() => Promise<unknown>>,
): Promise<RunningAppliance> {
  const config = (): Config => live.get();
  const initial = live.get();
  const { storageDir } = initial;
  const cache = new Cache(storageDir);
  const removed = await cache.init();
  if (removed > 0) log.info('removed temp files left by an interrupted run', { count: removed });
  const index = await Index.open(indexPath(storageDir));
  undo.push(() => index.close());
  const startedAt = new Date();
  const events = new RecentEvents();
  const reporter = new CommitmentReporter(index, config);
  const evictor = new Evictor(cache, index, () => config().cache);
  const forwarder = new Forwarder(initial, index, cache, () => {
    reporter.nudge();
    evictor.nudge(); // delivered studies may now be evicted
  });
  const store = new InstanceStore(
    cache,
    index,
    (facts) => forwarder.route(facts),
    (destinations) => forwarder.wake(destinations),
  );
  // Told after every stored instance; at a hundred instances a second, a commitment sweep
  // (a query on the index's one connection) and a disk reading each time would queue
  // behind, and in front of, the next instance's commit: both are folded per interval. The
  // look at the disk also deletes the copies re-sends replaced (evictor.deleteUnlisted).
  const sweepCommitments = coalesced(() => reporter.nudge(), 50);
  const lookAtDisk = coalesced(() => evictor.nudge(), 500);
  store.onStored = () => {
    sweepCommitments();
    lookAtDisk();
  };
  store.admission = evictor;
  // Files the index no longer lists (an eviction or a re-send a crash interrupted) go
  // first: they are no orphans to adopt.
  const unlisted = await evictor.deleteUnlisted();
  if (unlisted > 0) log.info('deleted cache files the index no longer lists', { files: unlisted });
  const check = await checkCacheAtStart(store);
  const repaired =
    check.adopted.length + check.removed.length + check.quarantined.length + check.missing.length;
  if (check.checked && (check.files > 0 || repaired > 0)) {
    (repaired > 0 ? log.warn : log.info)('no clean stop recorded: cache and index checked', {
      files: check.files,
      adopted: check.adopted.length,
      removed: check.removed.length,
      quarantined: check.quarantined.length,
      ms: check.ms,
    });
    for (const q of check.quarantined)
      log.error('cache file unreadable, moved to quarantine', { path: q.path, reason: q.reason });
    if (check.missing.length > 0)
      log.error('cache files missing: their rows were removed and their forward jobs failed', {
        count: check.missing.length,
        sops: check.missing.slice(0, 10).join(','),
      });
  }
  control.use({
    config: () => live.view(),
    'config-set': (request) => live.change(request.set),
    reload: () => live.reload(),
    queue: () => forwarder.report(),
    'commit-report': (request) => index.commitments.commitReport(request.transaction),
    retry: async (request): Promise<RetryResult> => {
      const { requeued, backoffs } = await forwarder.retry(request);
      return { count: requeued.length, jobs: requeued.slice(0, RETRY_LISTED), backoffs };
    },
    failed: (request) => forwarder.failed(request.destination),
    cache: () => cacheReport(index, evictor, config()),
    check: (request) => verifyCache(store, { digest: request.digest, repair: request.repair }),
    'cache-protect': async (request) => {
      if (!(await index.evictions.protect(request.study, request.protect)))
        throw new ControlCommandError('not-found', `no study ${request.study} in the cache`);
      evictor.nudge();
      return { study: request.study, protected: request.protect };
    },
    // An operator's request: down to the low watermark now, as if the high one were crossed.
    'cache-evict': (request) => evictor.run(request.dryRun, true),
    echo: (request) => forwarder.echo(request.node),
    'echo-answered': (request) => ({ backoffEnded: forwarder.answered(request.node) }),
    status: () => status(),
  });
  const metrics = new BoxMetrics(VERSION);
  // Every request but C-STORE (counted with its outcome by store-scp) is timed for the metrics.
  const timed = (field: number, handler: ServiceHandler): ServiceHandler => {
    const service = commandName(field).replace(/-RQ$/, '');
    return async (message, ctx) => {
      const started = process.hrtime.bigint();
      try {
        await handler(message, ctx);
      } finally {
        metrics.request(service, Number(process.hrtime.bigint() - started) / 1e9);
      }
    };
  };
  const services = new Map<number, ServiceHandler>([
    [CommandField.CEchoRq, cEchoScp],
    [CommandField.CFindRq, cFindScp(index, () => config().ae)],
    [CommandField.CMoveRq, cMoveScp({ index, cache, config, hold: (s) => evictor.lease(s) })],
    [CommandField.CGetRq, cGetScp({ index, cache, config, hold: (s) => evictor.lease(s) })],
    [CommandField.NActionRq, nActionScp(index, reporter, () => config().commitTimeoutSeconds)],
    [CommandField.NEventReportRq, nEventReportScp(index)],
  ]);
  const server = new ScpServer(
    initial,
    new Map([
      ...[...services].map(([field, handler]) => [field, timed(field, handler)] as const),
      [CommandField.CStoreRq, cStoreScp(store, (outcome) => metrics.stored(outcome))],
    ]),
    metrics.associations,
  );
  /** The status model: what the control API, the dashboard, the console and the metrics read. */
  const sources = (): StatusSources => ({
    config: config(),
    index,
    forwarder,
    evictor,
    server,
    throughput,
    health,
    startedAt,
    events,
    version: VERSION,
  });
  const status = () => collectStatus(sources());
  undo.push(() => server.close(0));
  await server.listen();
  const tlsListener = new TlsListener((socket) => server.accept(socket));
  undo.push(() => tlsListener.close());
  await tlsListener.apply(initial.host, initial.tls);
  const throughput = new ThroughputMeter(() => server.bytesReceived);
  const health = new HealthMonitor();
  const endpoint = new MetricsEndpoint({
    async metrics() {
      const [s, usage, commitments] = await Promise.all([
        collectCoreStatus(sources()),
        evictor.usage(),
        index.commitments.commitmentCounts(),
      ]);
      metrics.update(s, { cacheBytes: usage.bytes, commitments });
      return metrics.exposition();
    },
    async readiness(): Promise<Readiness> {
      const problems: string[] = [];
      if (!server.listening && !tlsListener.address) problems.push('not listening for DICOM');
      await index.probeWrite().catch((err: Error) => problems.push(`index: ${err.message}`));
      if (evictor.refusing) problems.push(`refusing C-STORE: ${evictor.refusing}`);
      return { ready: problems.length === 0, problems };
    },
  });
  undo.push(() => endpoint.close());
  await endpoint.start(initial.metrics);
  live.use((next) => server.prepare(next));
  live.use(async (next) => tlsListener.prepare(next.host, next.tls));
  live.use((next) => endpoint.prepare(next.metrics));
  live.onApplied((next) => forwarder.apply(next));
  live.onApplied(() => evictor.nudge());
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
  evictor.start();
  return {
    get port() {
      return server.address.port;
    },
    liveConfig: live,
    store,
    server,
    forwarder,
    evictor,
    control,
    startupCheck: check,
    stop() {
      // Idempotent: a second call waits for the first.
      stopping ??= (async () => {
        await tlsListener.close();
        await server.close();
        await consoles.close();
        // Work that outlives its association (a receive finishing its commit, a commitment
        // report) ends before the index closes.
        await store.idle();
        await endpoint.close();
        await reporter.stop();
        await evictor.stop();
        await forwarder.stop();
        events.close();
        throughput.close();
        await index.close();
        await cache.close();
        // The last step, and only when all the above went well: the next start may skip
        // the cache check. The control socket goes after it, so no second box starts early.
        await markCleanStop(storageDir);
        await control.close();
      })();
      return stopping;
    },
  };
}

/** fn at most once per `ms`: the calls in between are folded into one run at its end. */
function coalesced(fn: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
    timer.unref();
  };
}
