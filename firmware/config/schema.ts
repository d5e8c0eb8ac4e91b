// The configuration's schema language: each key is declared once, and its declaration gives
// the key's TypeScript type (Infer), its default, and its check, whose refusal names the
// key's path ("nodes[0].port") in the box's own words. Small on purpose: those words are
// quoted by the README, the CLI, the dashboard and the tests, and a general schema library
// would word them its own way.
import { closest } from '../nearest-word';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`config key "${key}": ${problem}`);
  }
}

/** What is wrong with a value, said after its key ("must be a boolean"); undefined: nothing. */
export type Problem = (value: unknown) => string | undefined;

/** Whether an object's key must be given (else its check refuses), has a default, or may be left out. */
type Presence = 'required' | 'default' | 'optional';

/** A key of an object: how its value is checked, and what stands when the key is absent. */
export interface Field<T, P extends Presence = Presence> {
  readonly presence: P;
  readonly schema: Schema<T>;
  /** The value of an absent key at `at`; undefined leaves the key out. */
  absent(at: string): T | undefined;
}

/** A value's check, giving what the configuration holds; as a field, it must be given. */
export abstract class Schema<T> implements Field<T, 'required'> {
  readonly presence = 'required';

  /** The value checked at `at` (its key's path), as the configuration holds it. Throws ConfigError. */
  abstract parse(value: unknown, at: string): T;

  get schema(): Schema<T> {
    return this;
  }

  /** Absent, it is checked as undefined: the key's own words say what is missing. */
  absent(at: string): T {
    return this.parse(undefined, at);
  }

  /** Absent, the key holds `value`. */
  default(value: T): Field<T, 'default'> {
    return { presence: 'default', schema: this, absent: () => value };
  }

  /** Absent, the key is left out. */
  optional(): Field<T, 'optional'> {
    return { presence: 'optional', schema: this, absent: () => undefined };
  }

  /** The checked value made into what the box uses (a URL without its trailing slash). */
  to<U>(next: (value: T, at: string) => U): Schema<U> {
    return custom((value, at) => next(this.parse(value, at), at));
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

class CustomSchema<T> extends Schema<T> {
  constructor(private readonly check: (value: unknown, at: string) => T) {
    super();
  }
  parse(value: unknown, at: string): T {
    return this.check(value, at);
  }
}

/** A schema written out: `parse` checks the value and returns what the configuration holds. */
export function custom<T>(parse: (value: unknown, at: string) => T): Schema<T> {
  return new CustomSchema(parse);
}

/** A value in which `problem` finds nothing wrong; T is what such a value is. */
export function rule<T>(problem: Problem): Schema<T> {
  return custom((value, at) => {
    const found = problem(value);
    if (found !== undefined) throw new ConfigError(at, found);
    return value as T;
  });
}

/** The path of `key` inside the object at `at` (the top level's path is empty). */
export function join(at: string, key: string): string {
  return at ? `${at}.${key}` : key;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function int(min: number, max: number): Schema<number> {
  return rule((v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `must be an integer from ${min} to ${max}`,
  );
}

/**
 * A duration in seconds, above 0 and at most `max` (said as `upTo`, "30 days"), or from 0
 * when 0 has a meaning of its own (`zeroMeans`: "never").
 */
export function seconds(
  max: number,
  words: { readonly upTo?: string; readonly zeroMeans?: string } = {},
): Schema<number> {
  const upTo = words.upTo ?? String(max);
  const { zeroMeans } = words;
  return rule((v) => {
    if (typeof v === 'number' && (zeroMeans ? v >= 0 : v > 0) && v <= max) return undefined;
    return zeroMeans
      ? `must be a number of seconds from 0 (${zeroMeans}) to ${upTo}`
      : `must be a number of seconds above 0 and at most ${upTo}`;
  });
}

export function bool(): Schema<boolean> {
  return rule((v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'));
}

/** One of `values`; `problem` says so in other words where a list would read badly. */
export function oneOf<const V extends readonly (string | number)[]>(
  values: V,
  problem = `must be one of ${values.join(', ')}`,
): Schema<V[number]> {
  return rule((v) => ((values as readonly unknown[]).includes(v) ? undefined : problem));
}

/** A list; with `unique`, a second item with the same value of that key is refused. */
export function list<T>(
  item: Schema<T>,
  unique?: { readonly key: string; readonly problem: (value: string) => string },
): Schema<readonly T[]> {
  return custom((raw, at) => {
    if (!Array.isArray(raw)) throw new ConfigError(at, 'must be an array');
    const seen = new Set<unknown>();
    return raw.map((value: unknown, i) => {
      const itemAt = `${at}[${i}]`;
      // Before the item's other keys: the dashboard asks a node's name first, and checks
      // each answer before the keys still to ask are there.
      const key = unique && isObject(value) ? value[unique.key] : undefined;
      if (unique && typeof key === 'string' && seen.has(key))
        throw new ConfigError(join(itemAt, unique.key), unique.problem(key));
      const parsed = item.parse(value, itemAt);
      seen.add(key);
      return parsed;
    });
  });
}

export type Fields = Readonly<Record<string, Field<unknown>>>;

type ValueOf<X> = X extends Field<infer T> ? T : never;
type Flat<T> = { [K in keyof T]: T[K] };

/** What an object of these fields holds: the optional ones may be left out. */
export type Shape<F extends Fields> = Flat<
  {
    readonly [K in keyof F as F[K] extends Field<unknown, 'optional'> ? never : K]: ValueOf<F[K]>;
  } & {
    readonly [K in keyof F as F[K] extends Field<unknown, 'optional'> ? K : never]?: ValueOf<F[K]>;
  }
>;

/**
 * A rule between an object's keys, once each is checked on its own: the key to name and
 * why, or undefined. `given` says whether the document itself sets a key.
 */
export type Rule<T> = (
  value: T,
  given: (key: string) => boolean,
) => readonly [key: string, problem: string] | undefined;

export interface ObjectOptions<T> {
  /** The refusal of a value that is no object; by default "must be an object like `example`". */
  readonly notObject?: string;
  readonly example?: string;
  /** What is said of a key not declared; by default, that it is not a known setting. */
  readonly unknownKey?: (key: string, known: readonly string[], at: string) => string;
  readonly rules?: ReadonlyArray<Rule<T>>;
}

/** An object of declared keys only, each checked in the order declared, then the rules. */
export class ObjectSchema<F extends Fields> extends Schema<Shape<F>> {
  constructor(
    readonly fields: F,
    private readonly options: ObjectOptions<Shape<F>> = {},
  ) {
    super();
  }

  /** Absent, the object holds its keys' defaults (a section the file leaves out). */
  defaults(): Field<Shape<F>, 'default'> {
    return { presence: 'default', schema: this, absent: (at) => this.parse({}, at) };
  }

  parse(raw: unknown, at: string): Shape<F> {
    const { notObject, example, unknownKey = unknownSetting, rules = [] } = this.options;
    if (!isObject(raw))
      throw new ConfigError(
        at || '(top level)',
        notObject ?? `must be an object${example ? ` like ${example}` : ''}`,
      );
    const known = Object.keys(this.fields);
    for (const key of Object.keys(raw))
      if (!Object.hasOwn(this.fields, key))
        throw new ConfigError(join(at, key), unknownKey(key, known, at));
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(this.fields)) {
      const path = join(at, key);
      const value =
        raw[key] === undefined ? field.absent(path) : field.schema.parse(raw[key], path);
      if (value !== undefined) out[key] = value;
    }
    const value = out as Shape<F>;
    for (const check of rules) {
      const refused = check(value, (key) => raw[key] !== undefined);
      if (refused) throw new ConfigError(join(at, refused[0]), refused[1]);
    }
    return value;
  }
}

/** A misspelt key ("forwarding.idleSecs") is answered with the nearest one, if one is near. */
function unknownSetting(key: string, known: readonly string[], at: string): string {
  const near = closest(key, known);
  return `is not a known setting${near ? `; did you mean ${join(at, near)}?` : ''}`;
}

export function object<F extends Fields>(
  fields: F,
  options?: ObjectOptions<Shape<F>>,
): ObjectSchema<F> {
  return new ObjectSchema(fields, options);
}

/**
 * One of several objects told apart by one key (a node's kind, an auth's type); `absent`
 * is the one meant when the key is not given.
 */
export function variants<V extends Readonly<Record<string, Schema<object>>>>(
  tag: string,
  choices: V,
  options: { readonly absent?: keyof V & string; readonly problem: string },
): Schema<{ [K in keyof V]: Infer<V[K]> }[keyof V]> {
  return custom((raw, at) => {
    const given = isObject(raw) ? raw[tag] : undefined;
    const choice = given === undefined ? options.absent : given;
    if (typeof choice !== 'string' || !Object.hasOwn(choices, choice))
      throw new ConfigError(join(at, tag), options.problem);
    return choices[choice]!.parse(raw, at) as Infer<V[keyof V]>;
  });
}
