// "What is the graph": builds the asset dependency graph on graphology, checks
// it (missing dependencies, cycles, partition mappings) and answers structural
// questions (topological order, upstream and downstream closures).
import { DirectedGraph } from 'graphology';
import { hasCycle, topologicalSort } from 'graphology-dag';
import { bfsFromNode } from 'graphology-traversal';
import { RuntimeError } from './errors.ts';
import type { AssetDefinition, Definitions } from './definitions.ts';
import type { AssetKey } from './keys.ts';
import { checkMapping, defaultMapping, type PartitionMapping } from './partition-mapping.ts';

export interface ResolvedDependency {
  /** The upstream asset. */
  readonly asset: AssetKey;
  /** The asset that declares this dependency. */
  readonly downstream: AssetKey;
  readonly inputName: string;
  readonly mapping: PartitionMapping;
}

export class AssetGraph<R = unknown> {
  readonly graph = new DirectedGraph();
  /** Asset keys, upstream before downstream; ties broken by key for stable output. */
  readonly order: readonly AssetKey[];
  private readonly defs = new Map<AssetKey, AssetDefinition<R>>();
  private readonly resolvedDeps = new Map<AssetKey, readonly ResolvedDependency[]>();
  private readonly position = new Map<AssetKey, number>();

  constructor(definitions: Definitions<R>) {
    for (const a of definitions.assets) {
      this.defs.set(a.key, a);
      this.graph.addNode(a.key);
    }
    for (const a of definitions.assets) {
      const deps: ResolvedDependency[] = [];
      for (const d of a.deps) {
        const upstream = this.defs.get(d.asset);
        if (!upstream) {
          throw new RuntimeError(
            'missing-dependency',
            `Asset ${a.key} depends on ${d.asset}, which is not defined. Define ${d.asset} or remove it from ${a.key}'s deps.`,
          );
        }
        const names = { upstream: d.asset, downstream: a.key };
        const mapping = d.mapping ?? defaultMapping(upstream.partitions, a.partitions, names);
        checkMapping(mapping, upstream.partitions, a.partitions, names);
        deps.push({ asset: d.asset, downstream: a.key, inputName: d.inputName, mapping });
        this.graph.mergeEdge(d.asset, a.key);
      }
      this.resolvedDeps.set(a.key, deps);
    }
    let order: AssetKey[];
    try {
      order = stableTopologicalOrder(this.graph);
    } catch (err) {
      // topologicalSort refuses a graph with a cycle; find one to name it.
      if (!hasCycle(this.graph)) throw err;
      throw new RuntimeError('cycle', `The asset graph has a cycle: ${this.findCycle().join(' -> ')}. Remove one of these dependencies.`);
    }
    this.order = order;
    for (const [i, k] of this.order.entries()) this.position.set(k, i);
  }

  get size(): number {
    return this.order.length;
  }

  has(key: string): key is AssetKey {
    return this.defs.has(key as AssetKey);
  }

  get(key: AssetKey): AssetDefinition<R> {
    const def = this.defs.get(key);
    if (!def) throw new RuntimeError('unknown-asset', `Unknown asset ${key}.`);
    return def;
  }

  keys(): AssetKey[] {
    return [...this.order];
  }

  deps(key: AssetKey): readonly ResolvedDependency[] {
    return this.resolvedDeps.get(key) ?? [];
  }

  /** Direct downstream assets. */
  children(key: AssetKey): AssetKey[] {
    return this.graph.outNeighbors(key) as AssetKey[];
  }

  ancestors(key: AssetKey): Set<AssetKey> {
    return this.closure(key, 'inbound');
  }

  descendants(key: AssetKey): Set<AssetKey> {
    return this.closure(key, 'outbound');
  }

  /** Sorts keys into topological order. */
  sort(keys: Iterable<AssetKey>): AssetKey[] {
    return [...keys].sort((a, b) => this.position.get(a)! - this.position.get(b)!);
  }

  private closure(key: AssetKey, mode: 'inbound' | 'outbound'): Set<AssetKey> {
    const out = new Set<AssetKey>();
    bfsFromNode(this.graph, key, (node) => void out.add(node as AssetKey), { mode });
    out.delete(key);
    return out;
  }

  /** One cycle, as the list of keys along it (first repeated at the end). */
  private findCycle(): string[] {
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (node: string): string[] | undefined => {
      state.set(node, 'open');
      stack.push(node);
      for (const next of this.graph.outNeighbors(node)) {
        if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
        if (!state.has(next)) {
          const found = visit(next);
          if (found) return found;
        }
      }
      stack.pop();
      state.set(node, 'done');
      return undefined;
    };
    for (const node of [...this.graph.nodes()].sort()) {
      if (!state.has(node)) {
        const found = visit(node);
        if (found) return found;
      }
    }
    return [];
  }
}

function stableTopologicalOrder(graph: DirectedGraph): AssetKey[] {
  // graphology-dag's order depends on insertion; sorting each generation by key
  // keeps plans and listings identical across runs.
  const sorted = topologicalSort(graph);
  const depth = new Map<string, number>();
  for (const node of sorted) {
    let d = 0;
    for (const up of graph.inNeighbors(node)) d = Math.max(d, depth.get(up)! + 1);
    depth.set(node, d);
  }
  return sorted.sort((a, b) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : a > b ? 1 : 0)) as AssetKey[];
}
