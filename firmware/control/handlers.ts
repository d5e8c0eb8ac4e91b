// What a running box answers on its control socket (commands.ts lists the commands): each
// command handed to the part that owns it — the live configuration, the forwarder, the
// archive, the status.
import type { Archive } from '../../storage/archive';
import type { LiveConfig } from '../config/live-config';
import type { Forwarder } from '../forward/forwarder';
import type { Worklist } from '../worklist/worklist';
import {
  ControlCommandError,
  RETRY_LISTED,
  WORKLIST_LISTED,
  type ControlHandlers,
  type RetryResult,
  type StatusResult,
} from './commands';

export interface ControlParts {
  readonly live: LiveConfig;
  readonly forwarder: Forwarder;
  readonly archive: Archive;
  readonly worklist: Worklist;
  status(): Promise<StatusResult>;
}

export function controlHandlers(p: ControlParts): ControlHandlers {
  const { live, forwarder, archive, worklist } = p;
  return {
    config: () => live.view(),
    'config-set': (request) => live.change(request.set),
    reload: () => live.reload(),
    queue: () => forwarder.report(),
    'commit-report': (request) => archive.commitments.commitReport(request.transaction),
    retry: async (request): Promise<RetryResult> => {
      const { requeued, backoffs } = await forwarder.retry(request);
      return { count: requeued.length, jobs: requeued.slice(0, RETRY_LISTED), backoffs };
    },
    failed: (request) => forwarder.failed(request.destination),
    cache: () => archive.report(),
    check: (request) => archive.check({ digest: request.digest, repair: request.repair }),
    'cache-protect': async (request) => {
      if (!(await archive.protect(request.study, request.protect)))
        throw new ControlCommandError('not-found', `no study ${request.study} in the cache`);
      return { study: request.study, protected: request.protect };
    },
    // An operator's request: down to the low watermark now, as if the high one were crossed.
    'cache-evict': (request) => archive.evict(request.dryRun, true),
    echo: (request) => forwarder.echo(request.node),
    'echo-answered': (request) => ({ backoffEnded: forwarder.answered(request.node) }),
    status: () => p.status(),
    worklist: async () => ({
      status: await worklist.status(),
      items: await worklist.items(WORKLIST_LISTED),
    }),
    'worklist-refresh': async () => {
      if (!(await worklist.status()))
        throw new ControlCommandError('failed', 'no node is the worklist source (worklistSource)');
      const refresh = await worklist.refresh();
      return { refresh, status: await worklist.status() };
    },
    'worklist-mismatches': () => worklist.mismatchViews(WORKLIST_LISTED),
  };
}
