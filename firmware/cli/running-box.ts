// The commands that talk to the running box find it from the configuration (its
// storageDir holds the control socket) and ask over that socket.
import { loadConfig } from '../config/load';
import type { CommandName, RequestOf, ResultOf } from '../control/commands';
import { controlRequest } from '../control/control-client';
import type { ConfigOption } from './args';

export function askBox<C extends CommandName>(
  options: ConfigOption,
  request: RequestOf<C>,
  timeoutMs?: number,
): Promise<ResultOf<C>> {
  return controlRequest(loadConfig(options.config).config.storageDir, request, timeoutMs);
}
