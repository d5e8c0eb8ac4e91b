// Retry delays for a destination: exponential from the initial delay, capped, with
// "full jitter" in the upper half so that boxes behind one PACS do not retry in step.
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Delay before retry number `failures` (1 = after the first failure). */
export function backoffDelay(
  policy: BackoffPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
