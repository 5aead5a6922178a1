import { AppError, IdSchema } from "@heron/core";
import { z } from "zod";

import type { Services } from "./index";
import { type Edge, expandArtifact, expandRun, type Neighbours, type Node, type SourceJobs, sourceJobsOnce } from "./lineage-expand";

export type { Edge, EdgeType, Node } from "./lineage-expand";

export const LINEAGE_DEFAULT_DEPTH = 3;
export const LINEAGE_MAX_DEPTH = 10;
/** a graph past this many nodes stops growing (`truncated`): bigger ones are unreadable anyway */
export const LINEAGE_MAX_NODES = 150;

const DepthSchema = z
  .number()
  .int("depth must be an integer")
  .min(1, "depth must be ≥ 1")
  .max(LINEAGE_MAX_DEPTH, `depth must be ≤ ${LINEAGE_MAX_DEPTH}`)
  .optional();
export const LineageQuerySchema = z.union(
  [z.object({ runId: IdSchema, depth: DepthSchema }).strict(), z.object({ artifactId: IdSchema, depth: DepthSchema }).strict()],
  {
    error: () => "give {runId} or {artifactId}, and optionally depth",
  },
);
export type LineageQuery = z.infer<typeof LineageQuerySchema>;
export type Lineage = { root: string; nodes: Node[]; edges: Edge[]; truncated: boolean };

/**
 * How runs and artifacts came to be, around one run or artifact version: a breadth-first walk
 * `depth` hops out in both directions (what it came from and what came from it). Each node is
 * visited once, so cycles cannot loop; the walk stops at LINEAGE_MAX_NODES. `artifactId` names
 * an artifact version (what jobs and runs produce and use) or, for convenience, an artifact,
 * which then stands for its newest version. Nodes in projects the caller cannot see are left
 * out with their edges (`visible` null: every project).
 */
export async function getLineage(services: Services, q: LineageQuery, visible: string[] | null): Promise<Lineage> {
  const depth = q.depth ?? LINEAGE_DEFAULT_DEPTH;
  const nodes = new Map<string, Node>();
  const edges = new Map<string, Edge>();
  let truncated = false;

  // one scan of the jobs' specs for the whole walk, not one per node
  const sources = sourceJobsOnce(services);
  const start = "runId" in q ? await expandRun(services, q.runId, sources) : await expandArtifact(services, q.artifactId, sources);
  if (!start) throw new AppError("NOT_FOUND", "runId" in q ? `run "${q.runId}" not found` : `artifact "${q.artifactId}" not found`);
  const root = start.self;
  nodes.set(root.id, root);
  let frontier: Node[] = [root];
  for (let hop = 0; hop < depth && frontier.length && !truncated; hop++) {
    const next: Node[] = [];
    for (const node of frontier) {
      // expanded when reached, not when found: the last hop's nodes cost no queries
      const nb = node === root ? start : await expand(services, node, sources);
      for (const link of nb?.links ?? []) {
        const other = link.node;
        if (visible && other.projectId && !visible.includes(other.projectId)) continue;
        if (!nodes.has(other.id)) {
          if (nodes.size >= LINEAGE_MAX_NODES) {
            truncated = true;
            continue;
          }
          nodes.set(other.id, other);
          next.push(other);
        }
        const e = link.out ? { from: node.id, to: other.id, type: link.type } : { from: other.id, to: node.id, type: link.type };
        edges.set(`${e.from}|${e.to}|${e.type}`, e);
      }
    }
    frontier = next;
  }
  return { root: root.id, nodes: [...nodes.values()], edges: [...edges.values()], truncated };
}

function expand(services: Services, node: Node, sources: () => Promise<SourceJobs>): Promise<Neighbours | null> {
  if (node.kind === "run") return expandRun(services, node.refId, sources);
  if (node.kind === "artifact") return expandArtifact(services, node.refId, sources);
  return Promise.resolve(null);
}
