// Which forward nodes get a copy of an instance. A node with "forward": true gets every
// instance, unless it has "forwardWhen": then every criterion given must match (and),
// each being one pattern or a list of patterns (or). Patterns are exact, or use the
// wildcards * (any run of characters) and ? (one character).
import type { ForwardWhen } from '../config/config';
import type { RoutingFacts } from '../../storage/instance-store';

export interface RoutableNode {
  readonly name: string;
  readonly forward: boolean;
  readonly forwardWhen?: ForwardWhen;
}

export function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  );
  return re.test(value);
}

export function matchesForwardWhen(when: ForwardWhen | undefined, facts: RoutingFacts): boolean {
  if (!when) return true;
  const checks: Array<[readonly string[] | undefined, string]> = [
    [when.callingAe, facts.callingAeTitle],
    [when.modality, facts.modality],
    [when.sopClassUid, facts.sopClassUid],
  ];
  return checks.every(
    ([patterns, value]) => patterns === undefined || patterns.some((p) => wildcardMatch(p, value)),
  );
}

export function routeInstance(nodes: readonly RoutableNode[], facts: RoutingFacts): string[] {
  return nodes
    .filter((n) => n.forward && matchesForwardWhen(n.forwardWhen, facts))
    .map((n) => n.name);
}
