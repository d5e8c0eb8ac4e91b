// The dashboard's message line holds the result of the last key (an echo, a save, a
// refusal). A message belongs to its time and to the state it describes: one about a node
// (an echo's answer) goes once that node's forwarding has changed since it was asked, any
// message says its age once it is no longer news, and goes after a minute. "echo pacs:
// 0x0000 (success)" beside a node whose retry has failed since reads as the answer to it.
import type { DestinationReport } from '../firmware/forward/forwarder';
import { age } from './format';

export interface DashboardMessage {
  readonly text: string;
  readonly error: boolean;
  /** When it was said. */
  readonly at: Date;
  /** The node it is about, and that node's state when it was said (destinationState). */
  readonly about?: { readonly node: string; readonly state: string };
}

/** A message this old is shown with its age: "25s ago: ...". */
export const MESSAGE_NEWS_SECONDS = 10;
/** A message this old is gone. */
export const MESSAGE_SECONDS = 60;

/**
 * What a message about a node describes of it: whether it is forwarded to, working or
 * failing, and its failures so far (a new one is a change even when the state word is
 * the same as before: failing, an echo ends the backoff, failing again).
 */
export function destinationState(d: DestinationReport | undefined): string {
  if (!d) return 'not forwarded to';
  const failing = d.state === 'backing-off' ? 'failing' : 'working';
  return `${failing}, ${d.consecutiveFailures} in a row, ${d.failed} failed`;
}

/** The message as it reads now: undefined once the state it described has changed, or late. */
export function messageNow(
  message: DashboardMessage,
  reports: ReadonlyMap<string, DestinationReport>,
  now: Date,
): string | undefined {
  const { about } = message;
  if (about && destinationState(reports.get(about.node)) !== about.state) return undefined;
  const seconds = Math.floor((now.getTime() - message.at.getTime()) / 1000);
  if (seconds >= MESSAGE_SECONDS) return undefined;
  return seconds < MESSAGE_NEWS_SECONDS ? message.text : `${age(seconds)} ago: ${message.text}`;
}
