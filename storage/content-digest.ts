// The content digest of an instance's data set, kept in its index row: it tells a re-sent
// identical instance (same SOP Instance UID, same digest: not forwarded again) from a
// changed one, and `check --digest` finds a file that changed on disk. It guards against
// no adversary — a copy that differs is stored and forwarded as a new version either way —
// so it is XXH3 (64 bits), not SHA-256: on a Pi 4's Cortex-A72, which has no SHA
// instructions, SHA-256 runs at about 100 MB/s, a whole core at the card's write speed,
// where XXH3 runs at memory speed. An accidental match between two copies of one instance
// is one in 1.8e19. Rows written before keep their SHA-256 (64 hex digits) and are checked
// with it; a re-send compared with such a row counts as changed once.
import { createHash } from 'node:crypto';
import { xxh3 } from '@node-rs/xxhash';

export interface ContentDigest {
  update(chunk: Buffer): void;
  /** Lower-case hex: 16 digits (XXH3-64), or 64 for a SHA-256 asked for by `like`. */
  digest(): string;
}

/** A digest for a new copy, or of the algorithm of a stored digest (`like`). */
export function contentDigest(like?: string): ContentDigest {
  if (like?.length === 64) {
    const sha = createHash('sha256');
    return { update: (chunk) => sha.update(chunk), digest: () => sha.digest('hex') };
  }
  const x = xxh3.Xxh3.withSeed();
  return {
    update: (chunk) => x.update(chunk),
    digest: () => x.digest().toString(16).padStart(16, '0'),
  };
}
