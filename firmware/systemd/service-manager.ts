// The box's side of a Type=notify unit: READY=1 once it listens, the watchdog while it
// runs, STOPPING=1 when it stops. Nothing at all when no service manager asked
// (NOTIFY_SOCKET unset: started by hand, by a test, or by a unit of another type).
import { serviceManagerNotifier } from './notify';
import { Watchdog, watchdogInterval } from './watchdog';

export interface ServiceManager {
  /** The box listens: systemd's start job completes, the units ordered after it start. */
  ready(): Promise<void>;
  /** The box is stopping: the watchdog is over, systemd shows "deactivating". */
  stopping(): Promise<void>;
}

/** `probe` resolves when the index answers (see watchdog.ts). */
export function serviceManager(
  probe: () => Promise<void>,
  env: NodeJS.ProcessEnv = process.env,
): ServiceManager {
  const notify = serviceManagerNotifier(env);
  if (!notify) return { ready: async () => undefined, stopping: async () => undefined };
  const interval = watchdogInterval(env);
  const watchdog = interval === undefined ? undefined : new Watchdog(interval, probe, notify);
  return {
    async ready() {
      await notify('READY=1');
      watchdog?.start();
    },
    async stopping() {
      watchdog?.stop();
      await notify('STOPPING=1');
    },
  };
}
