// Selection syntax, as in dbt and Dagster: `key`, `+key` (with all upstream),
// `key+` (with all downstream), `group:name`, `*` (everything), comma lists.
import { closest, distance } from 'fastest-levenshtein';
import { RuntimeError } from './errors.ts';
import type { AssetGraph } from './graph.ts';
import type { AssetKey } from './keys.ts';

/** Resolves a selection string to asset keys in topological order. An empty selection is everything. */
export function resolveSelection(graph: AssetGraph<unknown>, selection: string | undefined): AssetKey[] {
  const text = (selection ?? '').trim();
  if (text === '' || text === '*') return graph.keys();
  const picked = new Set<AssetKey>();
  for (const raw of text.split(',')) {
    const term = raw.trim();
    if (term === '') throw new RuntimeError('invalid-selection', `Selection ${JSON.stringify(text)} has an empty term; separate keys with single commas.`);
    for (const k of resolveTerm(graph, term)) picked.add(k);
  }
  return graph.sort(picked);
}

function resolveTerm(graph: AssetGraph<unknown>, term: string): AssetKey[] {
  if (term === '*') return graph.keys();
  if (term.startsWith('group:')) {
    const group = term.slice('group:'.length);
    const members = graph.keys().filter((k) => graph.get(k).group === group);
    if (members.length === 0) {
      const groups = [...new Set(graph.keys().map((k) => graph.get(k).group))].sort();
      throw new RuntimeError('invalid-selection', `No asset is in group "${group}". Groups: ${groups.join(', ')}.`);
    }
    return members;
  }
  const upstream = term.startsWith('+');
  const downstream = term.endsWith('+');
  const key = term.slice(upstream ? 1 : 0, downstream ? -1 : undefined);
  if (!graph.has(key)) throw unknownAsset(graph, key);
  const out = new Set<AssetKey>([key]);
  if (upstream) for (const k of graph.ancestors(key)) out.add(k);
  if (downstream) for (const k of graph.descendants(key)) out.add(k);
  return [...out];
}

/** An "unknown asset" error that suggests the closest defined names. */
export function unknownAsset(graph: AssetGraph<unknown>, key: string): RuntimeError {
  return new RuntimeError('unknown-asset', `Unknown asset "${key}".${suggest(graph.keys(), key)}`);
}

function suggest(keys: string[], wanted: string): string {
  if (keys.length === 0) return ' No assets are defined.';
  const ranked = keys
    .map((k) => ({ k, d: Math.min(distance(k, wanted), distance(k.slice(k.lastIndexOf('/') + 1), wanted)) }))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k));
  const near = ranked
    .filter((r) => r.d <= Math.max(2, Math.floor(wanted.length / 2)))
    .slice(0, 3)
    .map((r) => r.k);
  const names = near.length > 0 ? near : [closest(wanted, keys)];
  return ` Did you mean ${names.map((n) => `"${n}"`).join(' or ')}?`;
}
