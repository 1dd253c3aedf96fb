// Parses a `--partition` argument against one asset's partitions definition:
//   2025-05-01            one key             2025-05-01...2025-05-31   a range
//   2025-05-01,2025-05-03 a list              51288|2025-05-01          a two-dimensional key
//   node=51288,51289,day=2025-05-01...2025-05-31   values per dimension (a dimension not named: all its keys)
// A dimension-value argument also applies to a one-dimensional asset whose partitions one
// of the named dimensions matches, so `-p day=...` selects the same days of `pjm/raw[day]`
// and `pjm/features[node|day]` in one run; a one-dimensional asset none of them matches is
// not narrowed.
import { RuntimeError } from './errors.ts';
import type { PartitionKey } from './keys.ts';
import { asMulti, DIMENSION_SEPARATOR, type MultiPartitions } from './partitions-multi.ts';
import { NO_DYNAMIC_KEYS, type DynamicPartitionKeys, type PartitionsDefinition } from './partitions.ts';

/** What the argument says, before it is matched with a definition. */
interface ParsedArgument {
  /** Values not under a dimension name: keys or `from...to` ranges. */
  readonly plain: readonly string[];
  /** `name=` groups, in the order given. */
  readonly dimensions: ReadonlyMap<string, readonly string[]>;
}

function parseArgument(arg: string): ParsedArgument {
  const plain: string[] = [];
  const dimensions = new Map<string, string[]>();
  let open: string[] | undefined;
  for (const part of arg
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const named = /^([a-z][a-z0-9_]*)=(.*)$/.exec(part);
    if (named) {
      const name = named[1]!;
      if (dimensions.has(name)) throw new RuntimeError('invalid-partition', `--partition names dimension ${name} twice; list its values after one ${name}=.`);
      open = [];
      dimensions.set(name, open);
      if (named[2]!.trim()) open.push(named[2]!.trim());
    } else if (open) open.push(part);
    else plain.push(part);
  }
  if (plain.length === 0 && dimensions.size === 0) throw new RuntimeError('invalid-partition', `--partition ${JSON.stringify(arg)} names no partition.`);
  for (const [name, values] of dimensions) {
    if (values.length === 0) throw new RuntimeError('invalid-partition', `--partition dimension ${name}= has no value.`);
  }
  return { plain, dimensions };
}

/** Keys of `def` for a list of keys and `from...to` ranges. */
function expand(values: readonly string[], def: PartitionsDefinition, now: Date, dynamic: DynamicPartitionKeys): PartitionKey[] {
  const out: PartitionKey[] = [];
  for (const value of values) {
    const range = value.split('...');
    if (range.length === 2) out.push(...def.range(range[0]!, range[1]!, now, dynamic));
    else if (range.length === 1) out.push(def.validate(value, now, dynamic));
    else throw new RuntimeError('invalid-partition', `Malformed partition range ${JSON.stringify(value)}: write FROM...TO.`);
  }
  return out;
}

function accepts(values: readonly string[], def: PartitionsDefinition, now: Date, dynamic: DynamicPartitionKeys): boolean {
  try {
    expand(values, def, now, dynamic);
    return true;
  } catch {
    return false;
  }
}

function forMulti(parsed: ParsedArgument, def: MultiPartitions, now: Date, dynamic: DynamicPartitionKeys): PartitionKey[] {
  const byDimension = new Map<string, string[]>();
  for (const [name, values] of parsed.dimensions) {
    if (!def.dimension(name)) {
      throw new RuntimeError(
        'invalid-partition',
        `--partition names dimension ${name}, which ${def.description} does not have (its dimensions: ${def.dimensions.map((d) => d.name).join(', ')}).`,
      );
    }
    byDimension.set(name, [...values]);
  }
  const fullKeys: string[] = [];
  for (const value of parsed.plain) {
    if (value.includes(DIMENSION_SEPARATOR)) {
      fullKeys.push(value);
      continue;
    }
    // A bare value belongs to the one dimension it is a key of: `-p 2025-05-01...2025-05-31` means those days of every node.
    const owners = def.dimensions.filter((d) => accepts([value], d.definition, now, dynamic));
    if (owners.length !== 1) {
      const names = def.dimensions.map((d) => d.name);
      throw new RuntimeError(
        'invalid-partition',
        owners.length === 0
          ? `Partition ${JSON.stringify(value)} is not a key of any dimension of ${def.description}; write ${names[0]}=…,${names[1]}=….`
          : `Partition ${JSON.stringify(value)} is a key of both ${names.join(' and ')}; say which: ${owners[0]!.name}=${value}.`,
      );
    }
    const list = byDimension.get(owners[0]!.name) ?? [];
    list.push(value);
    byDimension.set(owners[0]!.name, list);
  }
  const out = expand(fullKeys, def, now, dynamic);
  if (byDimension.size > 0) {
    const [first, second] = def.dimensions.map((d) => {
      const values = byDimension.get(d.name);
      return values ? expand(values, d.definition, now, dynamic) : d.definition.keys(now, dynamic);
    });
    out.push(...def.product(first!, second!));
  }
  return out;
}

function forSingle(parsed: ParsedArgument, def: PartitionsDefinition, now: Date, dynamic: DynamicPartitionKeys): PartitionKey[] {
  if (parsed.dimensions.size === 0) return expand(parsed.plain, def, now, dynamic);
  if (parsed.plain.length > 0) {
    throw new RuntimeError(
      'invalid-partition',
      `--partition mixes bare keys (${parsed.plain.join(', ')}) with dimension=value groups; name a dimension for every value.`,
    );
  }
  const applicable = [...parsed.dimensions].filter(([, values]) => accepts(values, def, now, dynamic));
  if (applicable.length === 1) return expand(applicable[0]![1], def, now, dynamic);
  // No named dimension is this asset's: it is not narrowed, as a dimension left out of a
  // two-dimensional argument is not (`-p node=C` on `+features` still reads every day of raw).
  if (applicable.length === 0) return def.keys(now, dynamic);
  throw new RuntimeError(
    'invalid-partition',
    `--partition dimensions ${applicable.map(([name]) => name).join(', ')} all hold keys of ${def.description}; select that asset in a run of its own.`,
  );
}

/** The keys of `def` an argument names, each validated, in order, without repeats. */
export function parsePartitionArgument(arg: string, def: PartitionsDefinition, now: Date, dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS): PartitionKey[] {
  const parsed = parseArgument(arg);
  const multi = asMulti(def);
  const keys = multi ? forMulti(parsed, multi, now, dynamic) : forSingle(parsed, def, now, dynamic);
  if (keys.length === 0) throw new RuntimeError('invalid-partition', `--partition ${JSON.stringify(arg)} names no partition.`);
  return [...new Set(keys)];
}
