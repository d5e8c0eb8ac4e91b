// The checks of the configuration's own kinds of value (AE titles, hosts, paths, URLs,
// headers, routing patterns), each with the words of its refusal. config.ts and
// tls-config.ts declare which key holds which.
import { isIP } from 'node:net';
import { ConfigError, custom, isObject, join, rule, type Schema } from './schema';

/** AE titles: 1-16 characters of the default repertoire, no backslash or control characters (PS3.5 §6.2). */
export function aeTitleProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.trim().length === 0) return 'must not be empty or all spaces';
  if (value.length > 16) return 'must be at most 16 characters';
  if (!/^[\x20-\x7e]+$/.test(value) || value.includes('\\')) {
    return 'may only hold printable ASCII characters other than backslash';
  }
  return undefined;
}

/**
 * A host: an IPv4 or IPv6 address, or a DNS name of RFC 1123 labels (letters, digits and
 * inner hyphens, 1-63 each, 253 in all) whose last label is not all digits (RFC 3696 §2).
 * That last rule is what refuses "1424" or "10.1.2": the resolver would read them as the
 * address 0.0.5.144 or 10.1.0.2 (inet_aton's short forms) and call a stranger.
 */
export function hostProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string: a DNS name or an IP address';
  if (value.length === 0) return 'must not be empty: a DNS name or an IP address';
  if (isIP(value) !== 0) return undefined;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const labels = name.split('.');
  if (name.length > 253) return 'must be a DNS name of at most 253 characters';
  if (labels.some((l) => l.length > 63))
    return 'must be a DNS name, each label of at most 63 characters';
  const isLabel = (l: string): boolean => /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l);
  if (!labels.every(isLabel) || /^[0-9]+$/.test(labels[labels.length - 1]!))
    return `must be a DNS name or an IP address, not ${JSON.stringify(value)}`;
  return undefined;
}

export const aeTitle = rule<string>(aeTitleProblem);
export const host = rule<string>(hostProblem);

export const nonEmptyText = rule<string>((v) =>
  typeof v !== 'string' ? 'must be a string' : v.length === 0 ? 'must not be empty' : undefined,
);

/** A node's name: what the CLI, the console and the control API call it by. */
export const nodeName = rule<string>((v) =>
  typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v)
    ? undefined
    : 'must be 1-64 letters, digits, "_", "." or "-"',
);

/** The absolute path of a file or device the box opens; `problem` says which. */
export function absolutePath(problem: string): Schema<string> {
  return rule((v) =>
    typeof v === 'string' && v.startsWith('/') && !v.includes('\0') ? undefined : problem,
  );
}

export const pemFile = absolutePath('must be the absolute path of a PEM file');

/** A DICOMweb service's base URL, as the box uses it: without a trailing slash. */
export const httpUrl: Schema<string> = custom((raw, at) => {
  const problem = 'must be an http:// or https:// URL (".../dicom-web")';
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    throw new ConfigError(at, problem);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(at, problem);
  if (url.search || url.hash || url.username || url.password)
    throw new ConfigError(
      at,
      'must hold no query, fragment or credentials (credentials go in auth)',
    );
  return url.href.replace(/\/+$/, '');
});

/** Headers the box sends a DICOMweb service besides its own (a tenant, an API key header). */
export const httpHeaders: Schema<Readonly<Record<string, string>>> = custom((raw, at) => {
  if (!isObject(raw)) throw new ConfigError(at, 'must be an object of header names and values');
  const ours = ['content-type', 'content-length', 'transfer-encoding', 'host', 'authorization'];
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name))
      throw new ConfigError(join(at, name), 'is not a header name');
    if (ours.includes(name.toLowerCase()))
      throw new ConfigError(join(at, name), 'is set by the box (authorization: use auth)');
    if (typeof value !== 'string' || /[\r\n\0]/.test(value))
      throw new ConfigError(join(at, name), 'must be text on one line');
    out[name] = value;
  }
  return out;
});

/** A routing pattern or a non-empty list of them (* and ? are wildcards), as a list. */
export const patternList: Schema<readonly string[]> = custom((raw, at) => {
  const list: unknown = typeof raw === 'string' ? [raw] : raw;
  const ok =
    Array.isArray(list) &&
    list.length > 0 &&
    list.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 64);
  if (!ok)
    throw new ConfigError(
      at,
      'must be a pattern or a non-empty list of patterns (* and ? are wildcards)',
    );
  return list as string[];
});
