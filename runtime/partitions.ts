// Partitions definitions of one dimension (daily, hourly, static; dynamic and
// two-dimensional ones are in partitions-multi.ts) and partition mappings (how a
// downstream partition maps onto upstream partitions). Pure functions over
// strings: no clock or store is read here; callers pass `now` and the dynamic
// partition keys the store holds, so planning is testable.
import { RuntimeError } from './errors.ts';
import type { PartitionKey } from './keys.ts';

export type PartitionsKind = 'daily' | 'hourly' | 'static' | 'dynamic' | 'multi';

/**
 * The keys of every dynamic partitions definition, by its name, as the lineage store holds
 * them: read once before planning (`LineageStore.dynamicPartitionKeys()`) and passed down,
 * so the planner stays a pure function of its inputs.
 */
export type DynamicPartitionKeys = ReadonlyMap<string, readonly PartitionKey[]>;
export const NO_DYNAMIC_KEYS: DynamicPartitionKeys = new Map();

export interface PartitionsDefinition {
  readonly kind: PartitionsKind;
  /** For humans: "daily from 2025-05-01", "static: a, b". */
  readonly description: string;
  /** Every partition key up to `now` (time windows end at the last complete window). */
  keys(now: Date, dynamic?: DynamicPartitionKeys): PartitionKey[];
  /** Throws a RuntimeError naming the key and the expected format when `key` is not a key of this definition. */
  validate(key: string, now: Date, dynamic?: DynamicPartitionKeys): PartitionKey;
  /** Keys from `from` to `to`, both inclusive, in order. */
  range(from: string, to: string, now: Date, dynamic?: DynamicPartitionKeys): PartitionKey[];
  /** The key `offset` windows away (negative = earlier), or undefined outside the definition. */
  shift(key: PartitionKey, offset: number, now: Date, dynamic?: DynamicPartitionKeys): PartitionKey | undefined;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

interface TimeWindowSpec {
  /** First partition: 'YYYY-MM-DD' (daily) or 'YYYY-MM-DDTHH:00' (hourly), UTC. */
  start: string;
  /** Last partition, inclusive. Without it, partitions run to the last complete window before `now`. */
  end?: string;
  /**
   * Windows past the last complete one (as Dagster's end_offset), when there is no `end`: 1 adds
   * the window in progress (today), 2 the next one too (tomorrow: a day-ahead market's delivery
   * day, requested by a schedule or sensor the day before). Default 0.
   */
  endOffset?: number;
}

class TimeWindowPartitions implements PartitionsDefinition {
  readonly description: string;
  private readonly startMs: number;
  private readonly endMs: number | undefined;
  private readonly endOffset: number;

  constructor(
    readonly kind: 'daily' | 'hourly',
    spec: TimeWindowSpec,
  ) {
    this.startMs = this.parseOrThrow(spec.start, 'start');
    this.endMs = spec.end === undefined ? undefined : this.parseOrThrow(spec.end, 'end');
    if (this.endMs !== undefined && this.endMs < this.startMs) {
      throw new RuntimeError('invalid-definition', `${kind} partitions: end ${spec.end} is before start ${spec.start}.`);
    }
    this.endOffset = spec.endOffset ?? 0;
    if (!Number.isInteger(this.endOffset) || this.endOffset < 0) {
      throw new RuntimeError('invalid-definition', `${kind} partitions: endOffset must be a whole number >= 0, got ${spec.endOffset}.`);
    }
    if (spec.end !== undefined && this.endOffset !== 0) {
      throw new RuntimeError('invalid-definition', `${kind} partitions: give end or endOffset, not both (end ${spec.end} is the last partition already).`);
    }
    const ahead =
      this.endOffset === 0 ? '' : `, ${this.endOffset} ${kind === 'daily' ? 'day' : 'hour'}${this.endOffset === 1 ? '' : 's'} past the last complete one`;
    this.description = `${kind} from ${spec.start}${spec.end ? ` to ${spec.end}` : ''}${ahead}`;
  }

  private get stepMs(): number {
    return this.kind === 'daily' ? DAY_MS : HOUR_MS;
  }

  private get format(): string {
    return this.kind === 'daily' ? 'YYYY-MM-DD' : 'YYYY-MM-DDTHH:00 (UTC)';
  }

  private parse(key: string): number | undefined {
    const m = this.kind === 'daily' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(key) : /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):00$/.exec(key);
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
    return this.endMs === undefined ? lastComplete + this.endOffset * this.stepMs : this.endMs;
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

/**
 * A definition whose keys are an ordered list (static: declared; dynamic: held by the
 * store). Ranges and shifts follow the list's order.
 */
abstract class KeyListPartitions implements PartitionsDefinition {
  abstract readonly kind: 'static' | 'dynamic';
  abstract readonly description: string;
  protected abstract list(dynamic: DynamicPartitionKeys): readonly PartitionKey[];
  protected abstract unknownKeyHint(dynamic: DynamicPartitionKeys): string;

  private indexCache: { of: readonly PartitionKey[]; index: Map<PartitionKey, number> } | undefined;

  private indexOf(dynamic: DynamicPartitionKeys): Map<PartitionKey, number> {
    const all = this.list(dynamic);
    if (this.indexCache?.of !== all) this.indexCache = { of: all, index: new Map(all.map((k, i) => [k, i])) };
    return this.indexCache.index;
  }

  keys(_now: Date, dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS): PartitionKey[] {
    return [...this.list(dynamic)];
  }

  validate(key: string, _now: Date, dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS): PartitionKey {
    if (!this.indexOf(dynamic).has(key)) {
      throw new RuntimeError('invalid-partition', `Unknown partition ${JSON.stringify(key)}; ${this.unknownKeyHint(dynamic)}.`);
    }
    return key;
  }

  range(from: string, to: string, now: Date, dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS): PartitionKey[] {
    const index = this.indexOf(dynamic);
    const a = index.get(this.validate(from, now, dynamic))!;
    const b = index.get(this.validate(to, now, dynamic))!;
    if (b < a) throw new RuntimeError('invalid-partition', `Partition range ${from}...${to} ends before it starts.`);
    return this.list(dynamic).slice(a, b + 1);
  }

  shift(key: PartitionKey, offset: number, _now: Date, dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS): PartitionKey | undefined {
    const i = this.indexOf(dynamic).get(key);
    return i === undefined ? undefined : this.list(dynamic)[i + offset];
  }
}

const KEY_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Why `key` cannot be a static or dynamic partition key, or undefined when it can. */
export function listKeyProblem(key: string): string | undefined {
  if (KEY_SEGMENT.test(key)) return undefined;
  return `partition key ${JSON.stringify(key)} may only hold letters, digits, "_", "." and "-", and must start with a letter or digit`;
}

class StaticPartitions extends KeyListPartitions {
  readonly kind = 'static' as const;
  readonly description: string;

  constructor(private readonly all: readonly PartitionKey[]) {
    super();
    if (all.length === 0) throw new RuntimeError('invalid-definition', 'Static partitions need at least one key.');
    if (new Set(all).size !== all.length) throw new RuntimeError('invalid-definition', 'Static partition keys must be unique.');
    for (const k of all) {
      const problem = listKeyProblem(k);
      if (problem) throw new RuntimeError('invalid-definition', `Static ${problem}.`);
    }
    this.description = `static: ${all.slice(0, 5).join(', ')}${all.length > 5 ? `, … (${all.length})` : ''}`;
  }

  protected list(): readonly PartitionKey[] {
    return this.all;
  }

  protected unknownKeyHint(): string {
    return `the partitions are: ${this.all.join(', ')}`;
  }
}

/**
 * Partitions whose keys are added while the system runs (a pricing node a user starts
 * to forecast): `materialize partitions add NAME KEY...` records them in the store, and
 * `initialKeys` (e.g. from configuration) always exist. Keys keep the order they were added in.
 */
class DynamicPartitions extends KeyListPartitions {
  readonly kind = 'dynamic' as const;
  readonly description: string;
  private merged: { from: readonly PartitionKey[] | undefined; keys: readonly PartitionKey[] } | undefined;

  constructor(
    readonly name: string,
    private readonly initialKeys: readonly PartitionKey[],
  ) {
    super();
    const problem = listKeyProblem(name);
    if (problem)
      throw new RuntimeError('invalid-definition', `Dynamic partitions name ${JSON.stringify(name)}: ${problem.replace('partition key', 'a name')}.`);
    for (const k of initialKeys) {
      const p = listKeyProblem(k);
      if (p) throw new RuntimeError('invalid-definition', `Dynamic partitions ${name}: ${p}.`);
    }
    this.description = `dynamic "${name}"`;
  }

  protected list(dynamic: DynamicPartitionKeys): readonly PartitionKey[] {
    const added = dynamic.get(this.name);
    if (!this.merged || this.merged.from !== added) {
      const keys = [...new Set([...this.initialKeys, ...(added ?? [])])];
      this.merged = { from: added, keys };
    }
    return this.merged.keys;
  }

  protected unknownKeyHint(dynamic: DynamicPartitionKeys): string {
    const keys = this.list(dynamic);
    const shown = keys.length === 0 ? 'it has no keys yet' : `its keys are: ${keys.slice(0, 10).join(', ')}${keys.length > 10 ? ', …' : ''}`;
    return `"${this.name}" is a dynamic partitions definition and ${shown}; add one with \`materialize partitions add ${this.name} KEY\``;
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

export interface DynamicPartitionsSpec {
  /** The name keys are added under (`materialize partitions add NAME KEY`). */
  readonly name: string;
  /** Keys that exist whatever the store holds (e.g. the nodes in a configuration). */
  readonly initialKeys?: readonly string[];
}

export interface DynamicPartitionsDefinition extends PartitionsDefinition {
  readonly kind: 'dynamic';
  readonly name: string;
}

export function dynamicPartitions(spec: DynamicPartitionsSpec): DynamicPartitionsDefinition {
  return new DynamicPartitions(spec.name, spec.initialKeys ?? []);
}

/** The dynamic partitions definition `def` is, or undefined. */
export function asDynamic(def: PartitionsDefinition): DynamicPartitionsDefinition | undefined {
  return def instanceof DynamicPartitions ? def : undefined;
}
