// Partition mappings: which upstream partitions one downstream partition consumes,
// between one-dimensional and two-dimensional (multi) partitions. Pure.
import { RuntimeError } from './errors.ts';
import { UNPARTITIONED, type PartitionKey } from './keys.ts';
import { asMulti, type MultiPartitions } from './partitions-multi.ts';
import { NO_DYNAMIC_KEYS, asDynamic, type DynamicPartitionKeys, type PartitionsDefinition } from './partitions.ts';

/**
 * How one downstream partition maps onto upstream partitions.
 * - identity: the same key (both assets share a partitions definition);
 * - all: every upstream partition (an unpartitioned asset consuming a partitioned one);
 * - window: the trailing window of `previous` earlier partitions, plus the same key unless
 *   `includeCurrent` is false (along the time dimension of a multi-partitioned pair);
 * - dimension: between a multi-partitioned asset and a one-dimensional one, through one
 *   dimension: `features[node|day]` reads `calendar[day]` (and its trailing window), and
 *   `daily_report[day]` reads `features[*|day]`, every value of the other dimension.
 */
export type PartitionMapping =
  | { readonly kind: 'identity' }
  | { readonly kind: 'all' }
  | { readonly kind: 'window'; readonly previous: number; readonly includeCurrent: boolean }
  | { readonly kind: 'dimension'; readonly dimension: string; readonly previous: number; readonly includeCurrent: boolean };

export const identityMapping = (): PartitionMapping => ({ kind: 'identity' });
export const allPartitionsMapping = (): PartitionMapping => ({ kind: 'all' });

function windowLength(previous: number): number {
  if (!Number.isInteger(previous) || previous < 0) {
    throw new RuntimeError('invalid-partition-mapping', `A trailing window needs a whole number of previous partitions, got ${previous}.`);
  }
  return previous;
}

export const trailingWindowMapping = (previous: number, options: { includeCurrent?: boolean } = {}): PartitionMapping => ({
  kind: 'window',
  previous: windowLength(previous),
  includeCurrent: options.includeCurrent ?? true,
});

/** Through one dimension of a multi-partitioned asset, optionally with a trailing window along it. */
export const dimensionMapping = (dimension: string, options: { previous?: number; includeCurrent?: boolean } = {}): PartitionMapping => ({
  kind: 'dimension',
  dimension,
  previous: windowLength(options.previous ?? 0),
  includeCurrent: options.includeCurrent ?? true,
});

export function describeMapping(m: PartitionMapping): string {
  switch (m.kind) {
    case 'identity':
      return 'same partition';
    case 'all':
      return 'all partitions';
    case 'window':
      return `previous ${m.previous}${m.includeCurrent ? ' and current' : ''}`;
    case 'dimension':
      return m.previous === 0 ? `same ${m.dimension}` : `previous ${m.previous}${m.includeCurrent ? ' and current' : ''} ${m.dimension}`;
  }
}

interface PairNames {
  readonly upstream: string;
  readonly downstream: string;
}

/** Whether two one-dimensional definitions partition the same thing: same kind, and for keyed lists the same keys. */
function sameKindOfPartitions(a: PartitionsDefinition, b: PartitionsDefinition): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'dynamic') return asDynamic(a)!.name === asDynamic(b)!.name;
  if (a.kind === 'static') {
    const epoch = new Date(0);
    const ka = a.keys(epoch);
    const kb = b.keys(epoch);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
  }
  return true;
}

/** The dimension of `multi` whose kind matches the one-dimensional `single`, when exactly one does. */
function matchingDimension(multi: MultiPartitions, single: PartitionsDefinition): string | undefined {
  const matches = multi.dimensions.filter((d) => sameKindOfPartitions(d.definition, single));
  return matches.length === 1 ? matches[0]!.name : undefined;
}

function mismatch(names: PairNames, upstream: PartitionsDefinition, downstream: PartitionsDefinition, what: string): RuntimeError {
  return new RuntimeError(
    'invalid-partition-mapping',
    `${names.downstream} (${downstream.description}) depends on ${names.upstream} (${upstream.description}); ${what}`,
  );
}

/** The mapping used when a dependency declares none; throws when the pair needs an explicit one. */
export function defaultMapping(upstream: PartitionsDefinition | undefined, downstream: PartitionsDefinition | undefined, names: PairNames): PartitionMapping {
  if (!upstream) return { kind: 'all' }; // the single unpartitioned value
  if (!downstream) return { kind: 'all' };
  const up = asMulti(upstream);
  const down = asMulti(downstream);
  if (up && down) {
    if (sameDimensions(up, down)) return { kind: 'identity' };
    throw mismatch(names, upstream, downstream, 'two multi-partitioned assets need the same dimensions.');
  }
  if (up || down) {
    const dimension = up ? matchingDimension(up, downstream) : matchingDimension(down!, upstream);
    if (dimension) return dimensionMapping(dimension);
    throw mismatch(names, upstream, downstream, 'no single dimension matches; declare mapping: dimensionMapping(NAME) on that dependency.');
  }
  if (sameKindOfPartitions(upstream, downstream)) return { kind: 'identity' };
  throw mismatch(names, upstream, downstream, 'partitions of different kinds need an explicit mapping on that dependency.');
}

function sameDimensions(a: MultiPartitions, b: MultiPartitions): boolean {
  return a.dimensions.every((d, i) => d.name === b.dimensions[i]!.name && sameKindOfPartitions(d.definition, b.dimensions[i]!.definition));
}

/** Throws a RuntimeError naming both assets when `mapping` cannot relate the two definitions. */
export function checkMapping(
  mapping: PartitionMapping,
  upstream: PartitionsDefinition | undefined,
  downstream: PartitionsDefinition | undefined,
  names: PairNames,
): void {
  const fail = (what: string): never => {
    throw new RuntimeError('invalid-partition-mapping', `${names.downstream} maps ${names.upstream} with "${describeMapping(mapping)}", which ${what}.`);
  };
  if (mapping.kind === 'all') return;
  if (!upstream || !downstream) fail('needs both assets to be partitioned');
  const up = asMulti(upstream);
  const down = asMulti(downstream);
  if (mapping.kind === 'identity' || mapping.kind === 'window') {
    if (Boolean(up) !== Boolean(down))
      fail('needs both assets partitioned alike; between a multi-partitioned and a one-dimensional asset use dimensionMapping(NAME)');
    if (up && down && !sameDimensions(up, down)) fail('needs the same dimensions on both assets');
    return;
  }
  const multi = up ?? down;
  if (!multi || (up && down)) fail('relates a multi-partitioned asset to a one-dimensional one');
  const dim = multi!.dimension(mapping.dimension);
  if (!dim) fail(`names no dimension of ${up ? names.upstream : names.downstream} (its dimensions: ${multi!.dimensions.map((d) => d.name).join(', ')})`);
  const single = up ? downstream! : upstream!;
  if (!sameKindOfPartitions(dim!.definition, single)) fail(`relates dimension ${mapping.dimension} (${dim!.definition.description}) to ${single.description}`);
}

export interface MappingContext {
  readonly upstream: PartitionsDefinition | undefined;
  readonly downstream: PartitionsDefinition | undefined;
  readonly now: Date;
  readonly dynamic?: DynamicPartitionKeys;
  /** The upstream's keys when the caller has them already (an "all" mapping). */
  readonly upstreamKeys?: () => PartitionKey[];
}

function windowOf(
  def: PartitionsDefinition,
  key: PartitionKey,
  previous: number,
  includeCurrent: boolean,
  now: Date,
  dynamic: DynamicPartitionKeys,
): PartitionKey[] {
  const out: PartitionKey[] = [];
  const last = includeCurrent ? 0 : -1;
  for (let offset = -previous; offset <= last; offset++) {
    const k = def.shift(key, offset, now, dynamic);
    if (k !== undefined) out.push(k);
  }
  return out;
}

/** The upstream partitions that downstream partition `key` consumes. */
export function mapPartitions(mapping: PartitionMapping, key: PartitionKey, ctx: MappingContext): PartitionKey[] {
  const { upstream, now } = ctx;
  const dynamic = ctx.dynamic ?? NO_DYNAMIC_KEYS;
  if (!upstream) return [UNPARTITIONED];
  switch (mapping.kind) {
    case 'all':
      return ctx.upstreamKeys ? ctx.upstreamKeys() : upstream.keys(now, dynamic);
    case 'identity':
      return upstream.shift(key, 0, now, dynamic) === undefined ? [] : [key];
    case 'window':
      return windowOf(upstream, key, mapping.previous, mapping.includeCurrent, now, dynamic);
    case 'dimension': {
      const up = asMulti(upstream);
      const down = asMulti(ctx.downstream);
      if (down) {
        const value = down.valueOf(key, mapping.dimension);
        return value === undefined ? [] : windowOf(upstream, value, mapping.previous, mapping.includeCurrent, now, dynamic);
      }
      if (!up) return [];
      const dim = up.dimension(mapping.dimension)!;
      const values = windowOf(dim.definition, key, mapping.previous, mapping.includeCurrent, now, dynamic);
      const other = up.dimensions.find((d) => d !== dim)!;
      const others = other.definition.keys(now, dynamic);
      return dim === up.dimensions[0] ? up.product(values, others) : up.product(others, values);
    }
  }
}
