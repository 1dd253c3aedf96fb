// Partitions definitions (daily, hourly, static) and partition mappings (how a
// downstream partition maps onto upstream partitions). Pure functions over
// strings: no clock is read here; callers pass `now` so planning is testable.
import { RuntimeError } from './errors.ts';
import { UNPARTITIONED, type PartitionKey } from './keys.ts';

export interface PartitionsDefinition {
  readonly kind: 'daily' | 'hourly' | 'static';
  /** For humans: "daily from 2025-05-01", "static: a, b". */
  readonly description: string;
  /** Every partition key up to `now` (time windows end at the last complete window). */
  keys(now: Date): PartitionKey[];
  /** Throws a RuntimeError naming the key and the expected format when `key` is not a key of this definition. */
  validate(key: string, now: Date): PartitionKey;
  /** Keys from `from` to `to`, both inclusive, in order. */
  range(from: string, to: string, now: Date): PartitionKey[];
  /** The key `offset` windows away (negative = earlier), or undefined outside the definition. */
  shift(key: PartitionKey, offset: number, now: Date): PartitionKey | undefined;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

interface TimeWindowSpec {
  /** First partition: 'YYYY-MM-DD' (daily) or 'YYYY-MM-DDTHH:00' (hourly), UTC. */
  start: string;
  /** Last partition, inclusive. Without it, partitions run to the last complete window before `now`. */
  end?: string;
}

class TimeWindowPartitions implements PartitionsDefinition {
  readonly description: string;
  private readonly startMs: number;
  private readonly endMs: number | undefined;

  constructor(
    readonly kind: 'daily' | 'hourly',
    spec: TimeWindowSpec,
  ) {
    this.startMs = this.parseOrThrow(spec.start, 'start');
    this.endMs = spec.end === undefined ? undefined : this.parseOrThrow(spec.end, 'end');
    if (this.endMs !== undefined && this.endMs < this.startMs) {
      throw new RuntimeError('invalid-definition', `${kind} partitions: end ${spec.end} is before start ${spec.start}.`);
    }
    this.description = `${kind} from ${spec.start}${spec.end ? ` to ${spec.end}` : ''}`;
  }

  private get stepMs(): number {
    return this.kind === 'daily' ? DAY_MS : HOUR_MS;
  }

  private get format(): string {
    return this.kind === 'daily' ? 'YYYY-MM-DD' : 'YYYY-MM-DDTHH:00 (UTC)';
  }

  private parse(key: string): number | undefined {
    const m =
      this.kind === 'daily'
        ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(key)
        : /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):00$/.exec(key);
    if (!m) return undefined;
    const [y, mo, d, h] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
    const ms = Date.UTC(y, mo - 1, d, h);
    const back = new Date(ms);
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23) return undefined;
    return ms;
  }

  private parseOrThrow(key: string, what: string): number {
    const ms = this.parse(key);
    if (ms === undefined) {
      throw new RuntimeError('invalid-partition', `Invalid ${this.kind} partition ${what} ${JSON.stringify(key)}: expected ${this.format}.`);
    }
    return ms;
  }

  private format_(ms: number): PartitionKey {
    const iso = new Date(ms).toISOString();
    return this.kind === 'daily' ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00`;
  }

  private lastMs(now: Date): number {
    // The last complete window: a daily partition for today is not complete until tomorrow.
    const lastComplete = Math.floor(now.getTime() / this.stepMs) * this.stepMs - this.stepMs;
    return this.endMs === undefined ? lastComplete : this.endMs;
  }

  keys(now: Date): PartitionKey[] {
    const out: PartitionKey[] = [];
    const last = this.lastMs(now);
    for (let ms = this.startMs; ms <= last; ms += this.stepMs) out.push(this.format_(ms));
    return out;
  }

  validate(key: string, now: Date): PartitionKey {
    const ms = this.parse(key);
    if (ms === undefined) {
      throw new RuntimeError('invalid-partition', `Invalid partition ${JSON.stringify(key)}: ${this.kind} partitions are written ${this.format}.`);
    }
    const last = this.lastMs(now);
    if (ms < this.startMs || ms > last) {
      throw new RuntimeError(
        'invalid-partition',
        `Partition ${key} is outside this asset's partitions (${this.format_(this.startMs)} to ${this.format_(last)}).`,
      );
    }
    return key;
  }

  range(from: string, to: string, now: Date): PartitionKey[] {
    const a = this.parseOrThrow(from, 'range start');
    const b = this.parseOrThrow(to, 'range end');
    if (b < a) throw new RuntimeError('invalid-partition', `Partition range ${from}...${to} ends before it starts.`);
    const lo = Math.max(a, this.startMs);
    const hi = Math.min(b, this.lastMs(now));
    const out: PartitionKey[] = [];
    for (let ms = lo; ms <= hi; ms += this.stepMs) out.push(this.format_(ms));
    return out;
  }

  shift(key: PartitionKey, offset: number, now: Date): PartitionKey | undefined {
    const ms = this.parse(key);
    if (ms === undefined) return undefined;
    const shifted = ms + offset * this.stepMs;
    if (shifted < this.startMs || shifted > this.lastMs(now)) return undefined;
    return this.format_(shifted);
  }
}

class StaticPartitions implements PartitionsDefinition {
  readonly kind = 'static' as const;
  readonly description: string;
  private readonly index: Map<string, number>;

  constructor(private readonly all: readonly string[]) {
    if (all.length === 0) throw new RuntimeError('invalid-definition', 'Static partitions need at least one key.');
    this.index = new Map(all.map((k, i) => [k, i]));
    if (this.index.size !== all.length) throw new RuntimeError('invalid-definition', 'Static partition keys must be unique.');
    for (const k of all) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(k)) {
        throw new RuntimeError('invalid-definition', `Static partition key ${JSON.stringify(k)} may only hold letters, digits, "_", "." and "-".`);
      }
    }
    this.description = `static: ${all.slice(0, 5).join(', ')}${all.length > 5 ? `, … (${all.length})` : ''}`;
  }

  keys(): PartitionKey[] {
    return [...this.all];
  }

  validate(key: string): PartitionKey {
    if (!this.index.has(key)) {
      throw new RuntimeError('invalid-partition', `Unknown partition ${JSON.stringify(key)}; the partitions are: ${this.all.join(', ')}.`);
    }
    return key;
  }

  range(from: string, to: string): PartitionKey[] {
    const a = this.index.get(this.validate(from))!;
    const b = this.index.get(this.validate(to))!;
    if (b < a) throw new RuntimeError('invalid-partition', `Partition range ${from}...${to} ends before it starts.`);
    return this.all.slice(a, b + 1);
  }

  shift(key: PartitionKey, offset: number): PartitionKey | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.all[i + offset];
  }
}

export function dailyPartitions(spec: TimeWindowSpec): PartitionsDefinition {
  return new TimeWindowPartitions('daily', spec);
}

export function hourlyPartitions(spec: TimeWindowSpec): PartitionsDefinition {
  return new TimeWindowPartitions('hourly', spec);
}

export function staticPartitions(keys: readonly string[]): PartitionsDefinition {
  return new StaticPartitions(keys);
}

/**
 * How one downstream partition maps onto upstream partitions.
 * - identity: the same key (both assets share a partitions definition);
 * - all: every upstream partition (an unpartitioned asset consuming a partitioned one);
 * - window: the trailing window of `previous` earlier partitions, plus the same key unless `includeCurrent` is false.
 */
export type PartitionMapping =
  | { readonly kind: 'identity' }
  | { readonly kind: 'all' }
  | { readonly kind: 'window'; readonly previous: number; readonly includeCurrent: boolean };

export const identityMapping = (): PartitionMapping => ({ kind: 'identity' });
export const allPartitionsMapping = (): PartitionMapping => ({ kind: 'all' });
export const trailingWindowMapping = (previous: number, options: { includeCurrent?: boolean } = {}): PartitionMapping => {
  if (!Number.isInteger(previous) || previous < 0) {
    throw new RuntimeError('invalid-partition-mapping', `A trailing window needs a whole number of previous partitions, got ${previous}.`);
  }
  return { kind: 'window', previous, includeCurrent: options.includeCurrent ?? true };
};

export function describeMapping(m: PartitionMapping): string {
  switch (m.kind) {
    case 'identity':
      return 'same partition';
    case 'all':
      return 'all partitions';
    case 'window':
      return `previous ${m.previous}${m.includeCurrent ? ' and current' : ''}`;
  }
}

/** The mapping used when a dependency declares none; throws when the pair needs an explicit one. */
export function defaultMapping(
  upstream: PartitionsDefinition | undefined,
  downstream: PartitionsDefinition | undefined,
  names: { upstream: string; downstream: string },
): PartitionMapping {
  if (!upstream) return { kind: 'all' }; // the single unpartitioned value
  if (!downstream) return { kind: 'all' };
  if (upstream.kind === downstream.kind) return { kind: 'identity' };
  throw new RuntimeError(
    'invalid-partition-mapping',
    `${names.downstream} (${downstream.description}) depends on ${names.upstream} (${upstream.description}); partitions of different kinds need an explicit mapping on that dependency.`,
  );
}

/** The upstream partitions that downstream partition `key` consumes. */
export function mapPartitions(
  mapping: PartitionMapping,
  upstream: PartitionsDefinition | undefined,
  key: PartitionKey,
  now: Date,
  upstreamKeysCache?: () => PartitionKey[],
): PartitionKey[] {
  if (!upstream) return [UNPARTITIONED];
  switch (mapping.kind) {
    case 'all':
      return upstreamKeysCache ? upstreamKeysCache() : upstream.keys(now);
    case 'identity':
      return upstream.shift(key, 0, now) === undefined ? [] : [key];
    case 'window': {
      const out: PartitionKey[] = [];
      const last = mapping.includeCurrent ? 0 : -1;
      for (let offset = -mapping.previous; offset <= last; offset++) {
        const k = upstream.shift(key, offset, now);
        if (k !== undefined) out.push(k);
      }
      return out;
    }
  }
}

/**
 * Parses a `--partition` argument: one key, a range `a...b`, or a comma list.
 * Each key is validated against `def`.
 */
export function parsePartitionArgument(arg: string, def: PartitionsDefinition, now: Date): PartitionKey[] {
  const out: PartitionKey[] = [];
  for (const part of arg.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = part.split('...');
    if (range.length === 2) out.push(...def.range(range[0]!, range[1]!, now));
    else if (range.length === 1) out.push(def.validate(part, now));
    else throw new RuntimeError('invalid-partition', `Malformed partition range ${JSON.stringify(part)}: write FROM...TO.`);
  }
  if (out.length === 0) throw new RuntimeError('invalid-partition', `--partition ${JSON.stringify(arg)} names no partition.`);
  return [...new Set(out)];
}
