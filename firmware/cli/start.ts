// `dicom-edge start [--config F] [--serial PATH] [--dashboard]`: the appliance.
import * as path from 'node:path';
import { startAppliance, type RunningAppliance } from '../appliance';
import { loadConfig } from '../config/load';
import { log, setStderrLogging } from '../log';
import { controlRequest } from '../control/control-client';
import { serviceManager } from '../systemd/service-manager';
import type { Command } from 'commander';
import { exits, withConfigOption, type ConfigOption } from './args';

interface StartOptions extends ConfigOption {
  readonly serial?: string;
  readonly dashboard?: boolean;
}

export function startCommand(program: Command): void {
  withConfigOption(
    program
      .command('start')
      .summary('run the box')
      .description(
        'Run the box: the DICOM listener (SCP), the forwarder, the control socket the other ' +
          'commands use, and the metrics port when configured. Stops cleanly on SIGINT/SIGTERM; ' +
          'SIGHUP reads the config file and its certificate files again (dicom-edge reload).',
      ),
  )
    .option('--serial <PATH>', 'serve the console on this serial port (e.g. /dev/ttyUSB0)')
    .option('--dashboard', 'show the dashboard on this terminal (quitting it stops the box)')
    .action(exits(start));
}

async function start(options: StartOptions): Promise<number> {
  // Listened for before anything else: a signal while starting stops the box once it has
  // started, cleanly, instead of killing it halfway.
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const hangUp = reloadOnHangUp();
  const { config, file } = loadConfig(options.config);
  log.info('starting', { config: file ?? '(embedded defaults)', storageDir: config.storageDir });
  // Last resort (promise 4): a fault that escaped one association's handling is logged,
  // and the box goes on serving the others. Each such line is a bug to fix.
  process.on('uncaughtException', (err) =>
    log.error('uncaught exception', { error: err.stack ?? err.message }),
  );
  process.on('unhandledRejection', (err) =>
    log.error('unhandled rejection', { error: String(err) }),
  );
  // Changes made on the dashboard, console or `config set` go to the file the box was
  // started from, or to ./dicom-edge.json (where the next start looks) when it ran on defaults.
  const serialPath = options.serial;
  const box = await startAppliance(config, file ?? path.resolve('dicom-edge.json'), {
    ...(serialPath
      ? { serial: { path: path.resolve(serialPath), baudRate: config.serial?.baudRate ?? 115200 } }
      : {}),
  });
  hangUp.started(box);
  // Under systemd (Type=notify, WatchdogSec=): alive only while the index answers.
  const manager = serviceManager(() => box.archive.probeWrite());
  await manager.ready();
  const why = options.dashboard
    ? await withDashboard(config.storageDir, signalled)
    : await signalled;
  hangUp.stopping();
  log.info('stopping', { reason: why });
  await manager.stopping();
  await box.stop();
  return 0;
}

/**
 * SIGHUP reads the config file again (the daemons' convention: `systemctl reload`), and
 * never stops the box, which is Node's default for it. One that comes while the box starts
 * is acted on once it has started; one while it stops, not at all.
 */
function reloadOnHangUp(): { started(box: RunningAppliance): void; stopping(): void } {
  let box: RunningAppliance | undefined;
  let pending = false;
  let over = false;
  const reload = (running: RunningAppliance): void => {
    log.info('SIGHUP: reading the configuration again');
    // The outcome, a refusal included, is logged by reload itself.
    running.liveConfig.reload().catch(() => undefined);
  };
  process.on('SIGHUP', () => {
    if (over) return;
    if (box) reload(box);
    else pending = true;
  });
  return {
    started(running) {
      box = running;
      if (pending) reload(running);
    },
    stopping() {
      over = true;
    },
  };
}

/** Shows the dashboard on this terminal until it is quit or the process is signalled. */
async function withDashboard(storageDir: string, signalled: Promise<string>): Promise<string> {
  // The dashboard owns this terminal: log lines go to its events panel, not over it
  // (unless stderr is redirected, to a file or the journal).
  if (process.stderr.isTTY) setStderrLogging(false);
  // blessed is loaded only when a dashboard is shown.
  const { Dashboard } = await import('../../ui-tty/dashboard');
  const dashboard = new Dashboard({
    call: (request) => controlRequest(storageDir, request, 5000),
    quitQuestion: 'Stop dicom-edge?',
  });
  dashboard.start();
  const why = await Promise.race([dashboard.done.then(() => 'dashboard quit'), signalled]);
  dashboard.stop();
  setStderrLogging(true);
  return why;
}
