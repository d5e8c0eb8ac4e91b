// The box's Prometheus metrics, named after Prometheus's conventions: the dicom_edge_
// prefix, base units in the name (seconds, bytes), _total for counters. Two kinds of
// source: events counted as they happen (a C-STORE, an association, a request), and the
// status model (firmware/control/status.ts, the one the dashboard and the CLI read), read
// when Prometheus scrapes. Counts the box keeps itself (instances delivered since a
// destination's worker started) are mirrored into counters by their increase.
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
} from 'prom-client';
import type { CoreStatus } from '../control/status';
import type { AssociationObserver, RefusalReason } from '../scp-server';
import type { ServiceHandler } from '../services/service';
import type { StoreOutcome } from '../services/store-scp';
import { CommandField, commandName } from '../dicom/dimse/command-field';
import { FAILURE_KINDS } from '../forward/failure-kind';

/** What scraping adds to the status: only the metrics need them. */
export interface MetricsExtras {
  readonly commitments: { pending: number; reported: number };
  readonly cacheBytes: number;
}

const PREFIX = 'dicom_edge_';

export class BoxMetrics {
  readonly registry = new Registry();

  // Receiving.
  private readonly receivedInstances = this.counter('received_instances_total', {
    help: 'Instances stored and acknowledged, by calling AE title.',
    labelNames: ['calling_ae'],
  });
  private readonly receivedBytes = this.counter('received_bytes_total', {
    help: 'Data set bytes of the instances stored, by calling AE title.',
    labelNames: ['calling_ae'],
  });
  private readonly storeFailures = this.counter('store_failures_total', {
    help: 'C-STORE requests answered with a failure, by status (hex).',
    labelNames: ['status'],
  });
  private readonly durable = new Histogram({
    name: `${PREFIX}store_durable_seconds`,
    help: 'Time from the last fragment of a data set to file, directory entry and index row durable.',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  // Associations and requests.
  private readonly associationsOpen = this.gauge('associations_open', {
    help: 'Established associations now.',
  });
  private readonly associationsAccepted = this.counter('associations_accepted_total', {
    help: 'Associations accepted.',
  });
  private readonly associationsRejected = this.counter('associations_rejected_total', {
    help: 'A-ASSOCIATE-RQs refused, by reason.',
    labelNames: ['reason'],
  });
  private readonly associationsEnded = this.counter('associations_ended_total', {
    help: 'Associations and connections ended: released, aborted, or closed before associating.',
    labelNames: ['how'],
  });
  private readonly requests = this.counter('dimse_requests_total', {
    help: 'DIMSE requests served, by service (C-ECHO, C-FIND, C-MOVE, C-GET, N-ACTION, ...).',
    labelNames: ['service'],
  });
  private readonly requestSeconds = new Histogram({
    name: `${PREFIX}dimse_request_duration_seconds`,
    help: 'Time to serve a DIMSE request other than C-STORE, to its final response.',
    labelNames: ['service'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });

  // Forwarding, per destination.
  private readonly oldestAge = this.gauge('forward_oldest_undelivered_age_seconds', {
    help: 'Age of the oldest instance not yet delivered to the destination; 0 when none waits.',
    labelNames: ['destination'],
  });
  private readonly queued = this.gauge('forward_queued_jobs', {
    help: 'Instances waiting to be forwarded to the destination.',
    labelNames: ['destination'],
  });
  private readonly inFlight = this.gauge('forward_in_flight_jobs', {
    help: 'Instances being sent to the destination now.',
    labelNames: ['destination'],
  });
  private readonly failed = this.gauge('forward_failed_jobs', {
    help: 'Instances the destination did not take, failed for good (until retried).',
    labelNames: ['destination'],
  });
  private readonly consecutiveFailures = this.gauge('forward_consecutive_failures', {
    help: 'Transfers to the destination failed in a row (0 once one succeeds).',
    labelNames: ['destination'],
  });
  private readonly backoffUntil = this.gauge('forward_backoff_until_timestamp_seconds', {
    help: 'Unix time of the next try while the destination is backed off; 0 when not.',
    labelNames: ['destination'],
  });
  private readonly failure = this.gauge('forward_failure', {
    help:
      'Why the destination is failing, one series per kind (certificate, unreachable, ' +
      'rejected, other): 1 for the present one, 0 for the others and while it works.',
    labelNames: ['destination', 'kind'],
  });
  private readonly deliveredInstances = this.counter('forward_delivered_instances_total', {
    help: 'Instances delivered to the destination.',
    labelNames: ['destination'],
  });
  private readonly deliveredBytes = this.counter('forward_delivered_bytes_total', {
    help: 'Data set bytes delivered to the destination.',
    labelNames: ['destination'],
  });

  // Cache and disk.
  private readonly cacheBytes = this.gauge('cache_used_bytes', {
    help: 'Bytes of the cached instance files.',
  });
  private readonly pinnedBytes = this.gauge('cache_pinned_bytes', {
    help: 'Bytes of studies that may not be evicted yet (undelivered, committing, protected).',
  });
  private readonly cacheInstances = this.gauge('cache_instances', {
    help: 'Instances in the cache.',
  });
  private readonly diskFree = this.gauge('disk_free_bytes', {
    help: 'Free bytes of the cache filesystem.',
  });
  private readonly diskSize = this.gauge('disk_size_bytes', {
    help: 'Size of the cache filesystem.',
  });
  private readonly evictAbove = this.gauge('cache_evict_above_ratio', {
    help: 'Disk use (0-1) above which studies are evicted.',
  });
  private readonly evictTo = this.gauge('cache_evict_to_ratio', {
    help: 'Disk use (0-1) eviction brings the disk down to.',
  });
  private readonly warnAt = this.gauge('cache_warn_ratio', {
    help: 'Disk use (0-1) from which the cache is reported nearly full.',
  });
  private readonly refusing = this.gauge('cache_refusing', {
    help: '1 while C-STORE is refused because the cache is full, else 0.',
  });
  private readonly evictedStudies = this.counter('evicted_studies_total', {
    help: 'Studies evicted from the cache.',
  });
  private readonly evictedBytes = this.counter('evicted_bytes_total', {
    help: 'Bytes of the studies evicted.',
  });

  // TLS.
  private readonly certificateExpiry = this.gauge('tls_certificate_expiry_timestamp_seconds', {
    help: 'Unix time a certificate the box presents expires, by use (TLS listener, node NAME).',
    labelNames: ['use'],
  });

  // Storage commitment.
  private readonly commitments = this.gauge('storage_commitments', {
    help: 'Storage commitment requests received, by state (pending, reported).',
    labelNames: ['state'],
  });

  // The worklist copy (firmware/worklist/): series only while a node is the worklist source.
  private readonly worklistAge = this.gauge('worklist_age_seconds', {
    help: 'Age of the worklist copy: seconds since its last complete replication (+Inf: no copy yet).',
  });
  private readonly worklistStale = this.gauge('worklist_stale', {
    help: '1 while the worklist source fails and modalities get the copy, or nothing (expired), else 0.',
  });
  private readonly worklistMaxAge = this.gauge('worklist_max_age_seconds', {
    help: 'Age from which the worklist copy is no longer served (worklist.maxAgeSeconds).',
  });
  private readonly worklistItems = this.gauge('worklist_items', {
    help: 'Scheduled procedure steps in the worklist copy.',
  });
  private readonly worklistMismatches = this.gauge('worklist_mismatches', {
    help: 'Instances received whose patient differs from their worklist item (listed by `dicom-edge worklist mismatches`).',
  });

  /** The last value seen of each count the box keeps, to mirror its increase. */
  private readonly seen = new Map<string, number>();
  /** The destinations whose delivered counters have series. */
  private destinations: ReadonlySet<string> = new Set();

  constructor(version: string) {
    // process_resident_memory_bytes, process_start_time_seconds (uptime is time() minus
    // it), nodejs_eventloop_lag_seconds and the rest, under their conventional names.
    collectDefaultMetrics({ register: this.registry });
    // Gauges prom-client names with _total, which the naming conventions keep for counters
    // (promtool check metrics flags them): left out.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      this.registry.removeSingleMetric(name);
    new Gauge({
      name: `${PREFIX}build_info`,
      help: 'Always 1; the labels say which firmware and Node.js run.',
      labelNames: ['version', 'nodejs_version'],
      registers: [this.registry],
    }).set({ version, nodejs_version: process.versions.node }, 1);
  }

  /** Counts a C-STORE's outcome (store-scp.ts). */
  stored(o: StoreOutcome): void {
    if (o.status !== 0) {
      this.storeFailures.inc({ status: o.status.toString(16).padStart(4, '0').toUpperCase() });
      return;
    }
    const labels = { calling_ae: o.callingAeTitle };
    this.receivedInstances.inc(labels);
    this.receivedBytes.inc(labels, o.datasetBytes ?? 0);
    if (o.durableSeconds !== undefined) this.durable.observe(o.durableSeconds);
  }

  /** Counts the listener's associations (scp-server.ts). */
  readonly associations: AssociationObserver = {
    accepted: () => this.associationsAccepted.inc(),
    refused: (reason: RefusalReason) => this.associationsRejected.inc({ reason }),
    ended: (how) => this.associationsEnded.inc({ how }),
  };

  /**
   * A handler that counts each request it serves and its time. C-STORE is left as it is:
   * store-scp counts it with its outcome (stored()).
   */
  timed(field: number, handler: ServiceHandler): ServiceHandler {
    if (field === CommandField.CStoreRq) return handler;
    const service = commandName(field).replace(/-RQ$/, '');
    return async (message, ctx) => {
      const started = process.hrtime.bigint();
      try {
        await handler(message, ctx);
      } finally {
        this.requests.inc({ service });
        this.requestSeconds.observe({ service }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    };
  }

  /** Sets what is read from the status model; called before each scrape. */
  update(status: CoreStatus, extras: MetricsExtras): void {
    this.associationsOpen.set(status.associations);
    for (const g of [
      this.oldestAge,
      this.queued,
      this.inFlight,
      this.failed,
      this.consecutiveFailures,
      this.backoffUntil,
      this.failure,
    ])
      g.reset(); // a destination removed from the configuration leaves no stale series
    for (const d of status.destinations) {
      const labels = { destination: d.name };
      this.oldestAge.set(labels, d.oldestWaitingSeconds ?? 0);
      this.queued.set(labels, d.queued);
      this.inFlight.set(labels, d.inFlightCount);
      this.failed.set(labels, d.failed);
      this.consecutiveFailures.set(labels, d.consecutiveFailures);
      this.backoffUntil.set(labels, d.retryAt ? Date.parse(d.retryAt) / 1000 : 0);
      // A state set (every kind, always): an alert on kind="certificate" needs no absent().
      for (const kind of FAILURE_KINDS)
        this.failure.set({ ...labels, kind }, d.failureKind === kind ? 1 : 0);
      this.mirror(this.deliveredInstances, `sent:${d.name}`, d.sentSinceStart, labels);
      this.mirror(this.deliveredBytes, `bytes:${d.name}`, d.bytesSentSinceStart, labels);
    }
    this.forgetDestinations(new Set(status.destinations.map((d) => d.name)));
    const c = status.cache;
    this.cacheBytes.set(extras.cacheBytes);
    this.pinnedBytes.set(c.pinnedBytes);
    this.cacheInstances.set(c.instances);
    this.diskFree.set(c.diskFreeBytes);
    this.diskSize.set(c.diskTotalBytes);
    this.evictAbove.set(c.evictAbovePercent / 100);
    this.evictTo.set(c.evictToPercent / 100);
    this.warnAt.set(c.warnPercent / 100);
    this.refusing.set(c.refusing ? 1 : 0);
    this.mirror(this.evictedStudies, 'evictedStudies', c.evictedStudies);
    this.mirror(this.evictedBytes, 'evictedBytes', c.evictedBytes);
    this.certificateExpiry.reset();
    for (const cert of status.certificates)
      if (cert.expires)
        this.certificateExpiry.set({ use: cert.use }, Date.parse(cert.expires) / 1000);
    this.commitments.set({ state: 'pending' }, extras.commitments.pending);
    this.commitments.set({ state: 'reported' }, extras.commitments.reported);
    this.updateWorklist(status.worklist);
  }

  private updateWorklist(w: CoreStatus['worklist']): void {
    const gauges = [
      this.worklistAge,
      this.worklistStale,
      this.worklistMaxAge,
      this.worklistItems,
      this.worklistMismatches,
    ];
    for (const g of gauges) g.reset(); // no source, no series: nothing to alert on
    if (!w) return;
    this.worklistAge.set(w.ageSeconds ?? Infinity);
    this.worklistStale.set(w.state === 'fresh' ? 0 : 1);
    this.worklistMaxAge.set(w.maxAgeSeconds);
    this.worklistItems.set(w.items);
    this.worklistMismatches.set(w.mismatches);
  }

  /** The text format Prometheus scrapes, and its content type. */
  async exposition(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  /**
   * Adds the increase of a count the box keeps to a counter. A count that went down was
   * restarted (a destination's worker made anew by a configuration change): what it
   * holds now is all new.
   */
  private mirror(
    counter: Counter<string>,
    key: string,
    now: number,
    labels: Record<string, string> = {},
  ): void {
    const before = this.seen.get(key) ?? 0;
    const added = now >= before ? now - before : now;
    // Even when nothing was added: a series that exists from the start at 0 lets increase()
    // count the first delivery after a restart, which a series born at 5 would not show.
    counter.inc(labels, added);
    this.seen.set(key, now);
  }

  /** A destination no longer forwarded to (its node removed) leaves no series behind. */
  private forgetDestinations(current: ReadonlySet<string>): void {
    for (const name of this.destinations) {
      if (current.has(name)) continue;
      this.deliveredInstances.remove({ destination: name });
      this.deliveredBytes.remove({ destination: name });
      this.seen.delete(`sent:${name}`);
      this.seen.delete(`bytes:${name}`);
    }
    this.destinations = new Set(current);
  }

  private counter<L extends string>(
    name: string,
    c: Omit<CounterConfiguration<L>, 'name' | 'registers'>,
  ): Counter<L> {
    return new Counter({ ...c, name: `${PREFIX}${name}`, registers: [this.registry] });
  }

  private gauge<L extends string>(
    name: string,
    c: { help: string; labelNames?: readonly L[] },
  ): Gauge<L> {
    return new Gauge({ ...c, name: `${PREFIX}${name}`, registers: [this.registry] });
  }
}
