// Wiring only: the parts of a running box, each started in turn and stopped in the reverse
// order. What each part does is its own module's: the archive (storage/archive.ts), the
// forwarder, the services (services/box-services.ts), the listeners, the control socket.
import { Archive } from '../storage/archive';
import { ConsoleCommands } from '../ui-tty/console-commands';
import { SerialConsoles } from '../ui-tty/serial-console';
import type { Config, SerialConfig } from './config/config';
import { LiveConfig } from './config/live-config';
import { controlRequest } from './control/control-client';
import { ControlServer } from './control/control-server';
import { controlHandlers } from './control/handlers';
import { HealthMonitor } from './control/health';
import {
  collectCoreStatus,
  collectStatus,
  RecentEvents,
  ThroughputMeter,
  type CoreStatus,
  type StatusSources,
} from './control/status';
import { Forwarder } from './forward/forwarder';
import { routeInstance } from './forward/routing';
import { BoxMetrics } from './metrics/box-metrics';
import { MetricsEndpoint, type Readiness } from './metrics/metrics-server';
import { ScpServer } from './scp-server';
import { boxServices } from './services/box-services';
import { CommitmentReporter } from './services/commitment/commitment-reporter';
import { TlsListener } from './tls/tls-listener';
import { VERSION } from './version';
import { worklistArrivalCheck } from './worklist/arrival-check';
import { mwlFindScp } from './worklist/mwl-scp';
import { Worklist } from './worklist/worklist';

export interface RunningAppliance {
  /** The port listened on now (a configuration change may move it). */
  readonly port: number;
  readonly liveConfig: LiveConfig;
  readonly archive: Archive;
  readonly server: ScpServer;
  readonly forwarder: Forwarder;
  readonly control: ControlServer;
  stop(): Promise<void>;
}

/** A part of the running box: what stops it, in the reverse order of the starts. */
type Stop = () => Promise<unknown> | unknown;

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
  const stops: Stop[] = [() => control.close()];
  try {
    return await startOn(control, live, options, stops);
  } catch (err) {
    // A box that cannot start leaves nothing running: no listener, no socket, no index.
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    throw err;
  }
}

/** The rest of the start, under the control socket; each part started adds its stop. */
async function startOn(
  control: ControlServer,
  live: LiveConfig,
  options: ApplianceOptions,
  stops: Stop[],
): Promise<RunningAppliance> {
  const config = (): Config => live.get();
  const initial = live.get();
  const archive = await Archive.open(
    initial.storageDir,
    () => config().cache,
    (facts) => routeInstance(config().nodes, facts),
  );
  stops.push(() => archive.close());
  const events = new RecentEvents();
  stops.push(() => events.close());
  const { forwarder, reporter } = startForwarding(archive, live, stops);
  const worklist = startWorklist(archive, live, stops);
  const metrics = new BoxMetrics(VERSION);
  const services = boxServices({
    archive,
    reporter,
    config,
    stored: (o) => metrics.stored(o),
    worklistFind: mwlFindScp(worklist),
  });
  const server = new ScpServer(
    initial,
    services.wrapped((field, handler) => metrics.timed(field, handler)),
    metrics.associations,
  );
  // Work that outlives its association (a receive finishing its commit) ends with it.
  stops.push(async () => (await server.close(), await archive.idle()));
  // The TLS listener opens first: once the plain port answers, every port does (a peer, a
  // test or an installer that waits for the plain port then finds the TLS one open too).
  const tlsListener = new TlsListener((socket) => server.accept(socket));
  stops.push(() => tlsListener.close());
  await tlsListener.apply(initial.host, initial.tls);
  await server.listen();
  const throughput = new ThroughputMeter(() => server.bytesReceived);
  stops.push(() => throughput.close());
  const health = new HealthMonitor();
  const startedAt = new Date();
  /** The status model: what the control API, the dashboard, the console and the metrics read. */
  const sources = (): StatusSources => ({
    config: config(),
    archive,
    forwarder,
    server,
    tlsAddress: () => tlsListener.address,
    throughput,
    health,
    startedAt,
    events,
    version: VERSION,
    worklist,
  });
  control.use(
    controlHandlers({
      live,
      forwarder,
      archive,
      worklist,
      status: () => collectStatus(sources()),
    }),
  );
  const endpoint = new MetricsEndpoint({
    metrics: () => scrape(metrics, collectCoreStatus(sources()), archive),
    readiness: () => readiness(server, tlsListener, archive),
  });
  stops.push(() => endpoint.close());
  await endpoint.start(initial.metrics);
  live.use((next) => server.prepare(next));
  live.use(async (next) => tlsListener.prepare(next.host, next.tls));
  live.use((next) => endpoint.prepare(next.metrics));
  live.onApplied((next) => forwarder.apply(next));
  live.onApplied(() => archive.lookAtDisk());
  openConsoles(live, options, stops);
  return running({ live, archive, server, forwarder, control }, stops);
}

/** The forwarder and the commitment reporter, fed by the archive's stored instances. */
function startForwarding(
  archive: Archive,
  live: LiveConfig,
  stops: Stop[],
): { forwarder: Forwarder; reporter: CommitmentReporter } {
  const config = (): Config => live.get();
  const reporter = new CommitmentReporter(archive, config);
  const forwarder = new Forwarder(config(), archive, archive.cache, () => {
    reporter.nudge();
    archive.lookAtDisk(); // delivered studies may now be evicted
  });
  // A commitment sweep is a query on the index's one connection: folded per interval.
  const sweepCommitments = coalesced(() => reporter.nudge(), 50);
  archive.on('stored', (destinations) => {
    if (destinations.length > 0) forwarder.wake(destinations);
    sweepCommitments();
  });
  archive.start();
  forwarder.start();
  stops.push(() => forwarder.stop());
  reporter.start();
  stops.push(() => reporter.stop());
  return { forwarder, reporter };
}

/**
 * The worklist: replicated from its source on an interval, served to modalities, and
 * checked against by arriving instances (before their rows, so before any forward job).
 */
function startWorklist(archive: Archive, live: LiveConfig, stops: Stop[]): Worklist {
  const config = (): Config => live.get();
  const worklist = new Worklist(archive.worklist, config);
  archive.arrivalCheck = worklistArrivalCheck(archive.worklist, config);
  worklist.start();
  stops.push(() => worklist.stop());
  live.onApplied((next) => worklist.apply(next));
  return worklist;
}

/** The serial consoles: the command line's, or the configuration's (which may change). */
function openConsoles(live: LiveConfig, options: ApplianceOptions, stops: Stop[]): void {
  const consoles = new SerialConsoles(
    new ConsoleCommands((request) => controlRequest(live.get().storageDir, request)),
  );
  stops.push(() => consoles.close());
  if (options.serial) consoles.open(options.serial);
  else {
    consoles.open(live.get().serial);
    live.onApplied((next) => consoles.open(next.serial));
  }
}

/** /metrics: the status model and the archive's totals, as Prometheus text. */
async function scrape(
  metrics: BoxMetrics,
  status: Promise<CoreStatus>,
  archive: Archive,
): ReturnType<BoxMetrics['exposition']> {
  const [s, usage, commitments] = await Promise.all([
    status,
    archive.usage(),
    archive.commitments.commitmentCounts(),
  ]);
  metrics.update(s, { cacheBytes: usage.bytes, commitments });
  return metrics.exposition();
}

/** /readyz: listening for DICOM, the index writable, C-STORE accepted. */
async function readiness(
  server: ScpServer,
  tlsListener: TlsListener,
  archive: Archive,
): Promise<Readiness> {
  const problems: string[] = [];
  if (!server.listening && !tlsListener.address) problems.push('not listening for DICOM');
  await archive.probeWrite().catch((err: Error) => problems.push(`index: ${err.message}`));
  if (archive.refusing) problems.push(`refusing C-STORE: ${archive.refusing}`);
  return { ready: problems.length === 0, problems };
}

/** The running box: its parts, and a stop that runs the stops in reverse (once). */
function running(
  parts: Omit<RunningAppliance, 'port' | 'stop' | 'liveConfig'> & { live: LiveConfig },
  stops: readonly Stop[],
): RunningAppliance {
  let stopping: Promise<void> | undefined;
  return {
    get port() {
      return parts.server.address.port;
    },
    liveConfig: parts.live,
    archive: parts.archive,
    server: parts.server,
    forwarder: parts.forwarder,
    control: parts.control,
    stop() {
      // Idempotent: a second call waits for the first. The archive's close records the
      // clean stop only when all went well; the control socket goes last, so no second box
      // starts early.
      stopping ??= (async () => {
        for (const stop of [...stops].reverse()) await stop();
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
