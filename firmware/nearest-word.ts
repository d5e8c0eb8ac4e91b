// The word someone most likely meant: a mistyped command (the CLI) or setting name (the
// configuration). It imports nothing, so any layer may use it.

/** The closest of `candidates` to a mistyped word, if one is close enough to mean. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  // A word cut short means the one candidate it begins: "stat" is status, though start
  // is fewer edits away.
  const begun = candidates.filter(
    (c) => word.length >= 3 && c.toLowerCase().startsWith(word.toLowerCase()),
  );
  if (begun.length === 1) return begun[0];
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (
      distance <= Math.max(1, Math.floor(candidate.length / 3)) &&
      distance < (best?.distance ?? Infinity)
    )
      best = { candidate, distance };
  }
  return best?.candidate;
}

/** Levenshtein distance, with a transposition counted as one edit ("retyr" → "retry"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}
