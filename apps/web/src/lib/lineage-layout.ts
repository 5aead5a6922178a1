import { graphlib, layout } from "@dagrejs/dagre";

export type LineageNodeIn = { id: string; kind: "run" | "artifact" | "attempt"; label: string; detail: string; href: string | null };
export type LineageEdgeIn = { from: string; to: string; type: string };
export type PlacedNode = LineageNodeIn & { x: number; y: number; width: number; height: number };
export type PlacedEdge = LineageEdgeIn & { points: { x: number; y: number }[] };
export type LineageLayout = { nodes: PlacedNode[]; edges: PlacedEdge[]; width: number; height: number };

export const NODE_HEIGHT = 44;
const CHAR_WIDTH = 7;

/** what dagre reads (width, height) and writes (x, y, points) on the graph, its nodes and its edges */
type GraphBox = { rankdir: string; nodesep: number; ranksep: number; marginx: number; marginy: number; width?: number; height?: number };
type NodeBox = { width: number; height: number; x: number; y: number };
type EdgeBox = { points?: { x: number; y: number }[] };
const MARGIN = 16;

/** wide enough for the longer of the node's two lines (monospace-ish estimate: SVG text cannot be measured before it is drawn) */
export function nodeWidth(n: Pick<LineageNodeIn, "label" | "detail">): number {
  return Math.min(260, Math.max(110, 24 + CHAR_WIDTH * Math.max(n.label.length, n.detail.length)));
}

/**
 * Places a lineage graph left to right (what a run or artifact came from on the left, what
 * came from it on the right) with dagre, a maintained layered-DAG layout. Edges whose ends
 * are not both in `nodes` are dropped; several edges between one pair (different types) are
 * kept apart (multigraph). Coordinates are node centres, shifted so everything starts at MARGIN.
 */
export function layoutLineage(nodes: LineageNodeIn[], edges: LineageEdgeIn[]): LineageLayout {
  const g = new graphlib.Graph<GraphBox, NodeBox, EdgeBox>({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 70, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: nodeWidth(n), height: NODE_HEIGHT, x: 0, y: 0 });
  const ids = new Set(nodes.map((n) => n.id));
  const kept = edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to);
  for (const e of kept) g.setEdge(e.from, e.to, {}, e.type);
  layout(g);
  const placed = nodes.map((n) => {
    const p = g.node(n.id);
    return { ...n, x: p.x, y: p.y, width: p.width, height: p.height };
  });
  const placedEdges = kept.map((e) => ({
    ...e,
    points: (g.edge(e.from, e.to, e.type).points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y })),
  }));
  const label = g.graph();
  return { nodes: placed, edges: placedEdges, width: Math.ceil(label.width ?? 0), height: Math.ceil(label.height ?? 0) };
}
