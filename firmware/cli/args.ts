// A small DCMTK-flavoured argument parser: positionals, "--flag value", repeatable "-k".
export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Map<string, string[]>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** `valued` lists options that take a value; any other option is a boolean switch. */
export function parseArgs(
  argv: readonly string[],
  valued: readonly string[],
  switches: readonly string[] = [],
): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const [name, inline] = a.split(/=(.*)/s, 2) as [string, string | undefined];
      if (valued.includes(name)) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new UsageError(`${name} needs a value`);
        options.set(name, [...(options.get(name) ?? []), value]);
      } else if (switches.includes(name)) {
        options.set(name, ['true']);
      } else {
        throw new UsageError(`unknown option ${name}`);
      }
    } else positionals.push(a);
  }
  return { positionals, options };
}

export function one(args: ParsedArgs, name: string, fallback: string): string {
  const v = args.options.get(name);
  return v && v.length ? v[v.length - 1]! : fallback;
}

export function portArg(value: string | undefined): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`port must be 1-65535, got ${value ?? 'nothing'}`);
  return port;
}
