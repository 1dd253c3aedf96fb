// Two-dimensional partitions, as Dagster's multi-partitions: every key is one value of
// each dimension (a pricing node x a delivery day), written `51288|2025-05-01` in the
// order the dimensions were declared. Pure, like the one-dimensional definitions: keys
// of a dynamic dimension come from the `DynamicPartitionKeys` the caller passes.
import { RuntimeError } from './errors.ts';
import type { PartitionKey } from './keys.ts';
import { NO_DYNAMIC_KEYS, type DynamicPartitionKeys, type PartitionsDefinition } from './partitions.ts';

/** Separates the dimension values in a two-dimensional key; never part of a one-dimensional key. */
export const DIMENSION_SEPARATOR = '|';

export interface PartitionDimension {
  readonly name: string;
  readonly definition: PartitionsDefinition;
}

const DIMENSION_NAME = /^[a-z][a-z0-9_]*$/;

export class MultiPartitions implements PartitionsDefinition {
  readonly kind = 'multi' as const;
  readonly description: string;
  readonly dimensions: readonly [PartitionDimension, PartitionDimension];
  /** The dimension that trailing windows move along: the time window one (or the second, when neither is). */
  readonly timeDimension: PartitionDimension;

  constructor(dimensions: Readonly<Record<string, PartitionsDefinition>>) {
    const list = Object.entries(dimensions).map(([name, definition]) => ({ name, definition }));
    if (list.length !== 2) {
      throw new RuntimeError(
        'invalid-definition',
        `Multi-partitions need exactly two dimensions, got ${list.length} (${list.map((d) => d.name).join(', ') || 'none'}).`,
      );
    }
    for (const d of list) {
      if (!DIMENSION_NAME.test(d.name)) {
        throw new RuntimeError(
          'invalid-definition',
          `Dimension name ${JSON.stringify(d.name)}: use lower-case letters, digits and "_", starting with a letter.`,
        );
      }
      if (d.definition.kind === 'multi')
        throw new RuntimeError('invalid-definition', `Dimension ${d.name} is itself multi-partitioned; a dimension has one kind.`);
    }
    this.dimensions = [list[0]!, list[1]!];
    const timeDims = list.filter((d) => d.definition.kind === 'daily' || d.definition.kind === 'hourly');
    if (timeDims.length > 1)
      throw new RuntimeError(
        'invalid-definition',
        `Multi-partitions may have at most one time dimension; ${timeDims.map((d) => d.name).join(' and ')} both are.`,
      );
    this.timeDimension = timeDims[0] ?? this.dimensions[1];
    this.description = list.map((d) => `${d.name}: ${d.definition.description}`).join(' × ');
  }

  dimension(name: string): PartitionDimension | undefined {
    return this.dimensions.find((d) => d.name === name);
  }

  /** The value of each dimension in a key, in declaration order, or undefined for a malformed key. */
  split(key: PartitionKey): [PartitionKey, PartitionKey] | undefined {
    const at = key.indexOf(DIMENSION_SEPARATOR);
    if (at < 0 || key.indexOf(DIMENSION_SEPARATOR, at + 1) >= 0) return undefined;
    return [key.slice(0, at), key.slice(at + 1)];
  }

  join(first: PartitionKey, second: PartitionKey): PartitionKey {
    return first + DIMENSION_SEPARATOR + second;
  }

  /** The value of dimension `name` in `key`. */
  valueOf(key: PartitionKey, name: string): PartitionKey | undefined {
    const parts = this.split(key);
    if (!parts) return undefined;
    return name === this.dimensions[0].name ? parts[0] : name === this.dimensions[1].name ? parts[1] : undefined;
  }

  /** Keys of the product of the given values per dimension, first dimension outermost. */
  product(first: readonly PartitionKey[], second: readonly PartitionKey[]): PartitionKey[] {
    const out: PartitionKey[] = new Array(first.length * second.length);
    let i = 0;
    for (const a of first) for (const b of second) out[i++] = a + DIMENSION_SEPARATOR + b;
    return out;
  }

  /** "node=51288, day=2025-05-01": a key for people. */
  describeKey(key: PartitionKey): string {
    const parts = this.split(key);
    if (!parts) return key;
    return `${this.dimensions[0].name}=${parts[0]}, ${this.dimensions[1].name}=${parts[1]}`;
  }

  keys(now: Date, dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS): PartitionKey[] {
    return this.product(this.dimensions[0].definition.keys(now, dynamic), this.dimensions[1].definition.keys(now, dynamic));
  }

  validate(key: string, now: Date, dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS): PartitionKey {
    const parts = this.split(key);
    if (!parts) {
      throw new RuntimeError(
        'invalid-partition',
        `Invalid partition ${JSON.stringify(key)}: ${this.description} partitions are written ${this.dimensions[0].name}${DIMENSION_SEPARATOR}${this.dimensions[1].name} (e.g. -p ${this.dimensions[0].name}=A,${this.dimensions[1].name}=B).`,
      );
    }
    this.dimensions[0].definition.validate(parts[0], now, dynamic);
    this.dimensions[1].definition.validate(parts[1], now, dynamic);
    return key;
  }

  range(from: string, to: string, now: Date, dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS): PartitionKey[] {
    const a = this.split(this.validate(from, now, dynamic))!;
    const b = this.split(this.validate(to, now, dynamic))!;
    return this.product(this.dimensions[0].definition.range(a[0], b[0], now, dynamic), this.dimensions[1].definition.range(a[1], b[1], now, dynamic));
  }

  /** Moves along the time dimension; the other value stays. */
  shift(key: PartitionKey, offset: number, now: Date, dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS): PartitionKey | undefined {
    const parts = this.split(key);
    if (!parts) return undefined;
    const timeIndex = this.timeDimension === this.dimensions[0] ? 0 : 1;
    const other = this.dimensions[1 - timeIndex]!;
    if (other.definition.shift(parts[1 - timeIndex]!, 0, now, dynamic) === undefined) return undefined;
    const moved = this.timeDimension.definition.shift(parts[timeIndex]!, offset, now, dynamic);
    if (moved === undefined) return undefined;
    return timeIndex === 0 ? this.join(moved, parts[1]) : this.join(parts[0], moved);
  }
}

/**
 * Partitions over two dimensions, e.g. `multiPartitions({ node: staticPartitions(ids), day: dailyPartitions(...) })`.
 * Keys are `<node>|<day>`; trailing-window mappings move along the time dimension.
 */
export function multiPartitions(dimensions: Readonly<Record<string, PartitionsDefinition>>): MultiPartitions {
  return new MultiPartitions(dimensions);
}

export function asMulti(def: PartitionsDefinition | undefined): MultiPartitions | undefined {
  return def instanceof MultiPartitions ? def : undefined;
}
