// `materialize partitions`: the keys of dynamic partitions definitions, which the store
// holds. `add` makes new partitions exist (a pricing node to forecast); the next run
// materializes them, and only them, as missing.
//   materialize partitions list [NAME] [--json]
//   materialize partitions add NAME KEY...
//   materialize partitions remove NAME KEY...
import type { AssetGraph } from '../graph.ts';
import type { Instance } from '../instance.ts';
import { asMulti } from '../partitions-multi.ts';
import { asDynamic, listKeyProblem, type DynamicPartitionsDefinition, type PartitionsDefinition } from '../partitions.ts';
import { writeView, type CommandView } from './views.ts';

/** A command-line mistake: the CLI prints it and exits with code 2. */
export class PartitionsUsageError extends Error {}

/** Every dynamic partitions definition the graph's assets use (directly or as a dimension), by name. */
export function dynamicDefinitions(graph: AssetGraph<unknown>): Map<string, DynamicPartitionsDefinition> {
  const out = new Map<string, DynamicPartitionsDefinition>();
  const visit = (def: PartitionsDefinition | undefined): void => {
    if (!def) return;
    const multi = asMulti(def);
    if (multi) for (const d of multi.dimensions) visit(d.definition);
    const dynamic = asDynamic(def);
    if (dynamic) out.set(dynamic.name, dynamic);
  };
  for (const key of graph.keys()) visit(graph.get(key).partitions);
  return out;
}

function definitionNamed(instance: Instance<unknown>, name: string | undefined): DynamicPartitionsDefinition {
  const all = dynamicDefinitions(instance.graph);
  const known = [...all.keys()].join(', ') || 'none: no asset uses dynamicPartitions()';
  if (!name) throw new PartitionsUsageError(`Name the dynamic partitions definition (defined: ${known}).`);
  const def = all.get(name);
  if (!def) throw new PartitionsUsageError(`No dynamic partitions definition is named ${JSON.stringify(name)} (defined: ${known}).`);
  return def;
}

export async function partitionsCommand(instance: Instance<unknown>, args: readonly string[], json: boolean, out: NodeJS.WritableStream): Promise<number> {
  const [action, name, ...keys] = args;
  const dynamic = await instance.store.dynamicPartitionKeys();
  switch (action) {
    case undefined:
    case 'list': {
      const defs = name ? [definitionNamed(instance, name)] : [...dynamicDefinitions(instance.graph).values()];
      writeView(
        out,
        listView,
        defs.map((def) => ({ name: def.name, keys: def.keys(new Date(), dynamic) })),
        json,
      );
      return 0;
    }
    case 'add':
    case 'remove': {
      const def = definitionNamed(instance, name);
      if (keys.length === 0) throw new PartitionsUsageError(`partitions ${action} ${def.name} needs at least one KEY.`);
      for (const k of keys) {
        const problem = listKeyProblem(k);
        if (problem) throw new PartitionsUsageError(`Cannot ${action} ${JSON.stringify(k)}: ${problem}.`);
      }
      const changed =
        action === 'add' ? await instance.store.addDynamicPartitions(def.name, keys) : await instance.store.removeDynamicPartitions(def.name, keys);
      writeView(out, changeView, { action, name: def.name, changed, unchanged: keys.filter((k) => !changed.includes(k)) }, json);
      return 0;
    }
    default:
      throw new PartitionsUsageError(`Unknown partitions action ${JSON.stringify(action)}: use list, add or remove.`);
  }
}

/** `partitions list`: each definition's keys (a JSON line per definition). */
const listView: CommandView<readonly { readonly name: string; readonly keys: readonly string[] }[]> = {
  json: (defs) => defs.map((d) => JSON.stringify({ name: d.name, keys: d.keys }) + '\n').join(''),
  text(defs) {
    if (defs.length === 0) return 'No asset uses dynamic partitions.\n';
    return defs.map(({ name, keys }) => `${name}: ${keys.length} key${keys.length === 1 ? '' : 's'}${keys.length ? `: ${keys.join(', ')}` : ''}\n`).join('');
  },
};

interface KeysChange {
  readonly action: 'add' | 'remove';
  readonly name: string;
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
}

/** `partitions add|remove`: the keys changed and those that already were (or were not) there. */
const changeView: CommandView<KeysChange> = {
  json: ({ action, name, changed, unchanged }) => JSON.stringify({ name, [action === 'add' ? 'added' : 'removed']: changed, unchanged }) + '\n',
  text({ action, name, changed, unchanged }) {
    const verb = action === 'add' ? 'Added' : 'Removed';
    let text = `${verb} ${changed.length} key${changed.length === 1 ? '' : 's'} ${action === 'add' ? 'to' : 'from'} ${name}${changed.length ? `: ${changed.join(', ')}` : ''}.\n`;
    if (unchanged.length) text += `${action === 'add' ? 'Already there' : 'Not there'}: ${unchanged.join(', ')}.\n`;
    if (action === 'add' && changed.length) text += `Their partitions are missing until the next run: \`materialize --dry-run\` shows what it will do.\n`;
    if (action === 'remove' && changed.length) text += 'Their materializations stay in the history; they are no longer planned or consumed.\n';
    return text;
  },
};
