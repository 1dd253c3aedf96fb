// Types of ui/layout.js (a plain ES module the browser loads as is), for the tests and tools that import it.
export interface LayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
  columnGap?: number;
  rowGap?: number;
  sweeps?: number;
}

export interface NodePosition {
  readonly x: number;
  readonly y: number;
  /** Column, counted from 0 at the left. */
  readonly rank: number;
}

export function layoutGraph(
  nodes: readonly { readonly key: string }[],
  edges: readonly { readonly from: string; readonly to: string }[],
  options?: LayoutOptions,
): {
  positions: Map<string, NodePosition>;
  /** Waypoints of each edge (same order as `edges`) between its ends; empty when it spans one column. */
  routes: { x: number; y: number }[][];
  width: number;
  height: number;
};
