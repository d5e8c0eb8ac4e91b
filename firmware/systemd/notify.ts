// The service manager's notification protocol (sd_notify(3)): READY=1, WATCHDOG=1,
// STOPPING=1 sent to the datagram socket systemd names in NOTIFY_SOCKET. Node.js cannot
// send on a unix datagram socket, so each message goes through systemd's own
// `systemd-notify`, which needs NotifyAccess=all in the unit (the sender is a child of the
// box). It waits until systemd has read the message (its barrier, systemd >= 246), so a
// message is not lost when it exits before systemd looks at who sent it. The npm package
// sd-notify would save the process but is a native addon linking libsystemd, one more
// binary to build for every architecture (docs/package.md).
import { execFile } from 'node:child_process';
import { log } from '../log';

/** Sends one notification; resolves false (and logs why) when it did not go. */
export type Notify = (state: string) => Promise<boolean>;

/** How long a notification may take before the box stops waiting for it. */
const NOTIFY_TIMEOUT_MS = 5000;

/**
 * The notifier of this process: undefined unless a service manager asked for
 * notifications (NOTIFY_SOCKET set, as systemd does for Type=notify).
 */
export function serviceManagerNotifier(
  env: NodeJS.ProcessEnv = process.env,
  command = 'systemd-notify',
): Notify | undefined {
  if (!env.NOTIFY_SOCKET) return undefined;
  return (state) =>
    new Promise((resolve) => {
      execFile(command, [state], { env, timeout: NOTIFY_TIMEOUT_MS }, (err, _out, stderr) => {
        if (!err) return resolve(true);
        log.warn('service manager notification not sent', {
          state,
          reason: stderr.trim() || err.message,
        });
        resolve(false);
      });
    });
}
