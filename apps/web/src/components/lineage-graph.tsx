"use client";
import "./lineage.css";

import { useMemo, useState } from "react";

import { api } from "../lib/api";
import { layoutLineage, type PlacedEdge } from "../lib/lineage-layout";
import { useQuery } from "./use-query";

/** how each edge type reads on the graph */
const EDGE_LABEL: Record<string, string> = {
  produced: "produced",
  used: "used by",
  teacher: "taught",
  base: "base of",
  stage: "next stage",
  attempt: "attempt",
  fork: "forked",
};

function pathOf(e: PlacedEdge): string {
  return e.points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
}

/**
 * How a run or an artifact version came to be and what came from it (lineage.get), laid out
 * by dagre and drawn as SVG. Each node links to its run or artifact page; the start node is
 * outlined. Depth is adjustable (1–10); a graph cut at the server's node cap says so.
 */
export function LineageGraph({ runId, artifactId }: { runId?: string; artifactId?: string }) {
  const [depth, setDepth] = useState(3);
  const { data, error } = useQuery(() => api.lineage.get.query(runId ? { runId, depth } : { artifactId: artifactId!, depth }), [runId, artifactId, depth]);
  const graph = useMemo(() => (data ? layoutLineage(data.nodes, data.edges) : null), [data]);
  if (error && !data)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (!data || !graph) return <p className="muted">Loading lineage…</p>;
  return (
    <div className="lineage" data-testid="lineage-graph">
      <p className="actions small">
        <label>
          depth{" "}
          <select aria-label="lineage depth" value={depth} onChange={(e) => setDepth(Number(e.target.value))}>
            {Array.from({ length: 10 }, (_, i) => i + 1).map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>{" "}
        <span className="muted">
          {data.nodes.length} node{data.nodes.length === 1 ? "" : "s"}, {data.edges.length} edge{data.edges.length === 1 ? "" : "s"}
          {data.truncated ? " — cut at the node limit; lower the depth or start from a node further out" : ""}
        </span>
      </p>
      {data.nodes.length === 1 ? <p className="muted">Nothing is linked to this yet: no teacher or base, no artifacts produced or used, no forks.</p> : null}
      <div className="lineage-scroll">
        <svg width={graph.width} height={graph.height} viewBox={`0 0 ${graph.width} ${graph.height}`} role="img" aria-label="lineage graph">
          <defs>
            <marker id="lineage-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" className="lineage-arrowhead" />
            </marker>
          </defs>
          {graph.edges.map((e) => {
            const mid = e.points[Math.floor(e.points.length / 2)];
            return (
              <g key={`${e.from}|${e.to}|${e.type}`} className={`lineage-edge lineage-edge-${e.type}`} data-edge-type={e.type}>
                <path d={pathOf(e)} markerEnd="url(#lineage-arrow)" />
                {mid && (
                  <text x={mid.x} y={mid.y - 4} textAnchor="middle">
                    {EDGE_LABEL[e.type] ?? e.type}
                  </text>
                )}
              </g>
            );
          })}
          {graph.nodes.map((n) => {
            const box = (
              <g className={`lineage-node lineage-${n.kind}${n.id === data.root ? " lineage-root" : ""}`}>
                {/* the whole text on hover: the lines below are cut to fit the box */}
                <title>{`${n.label} — ${n.detail}`}</title>
                <rect x={n.x - n.width / 2} y={n.y - n.height / 2} width={n.width} height={n.height} rx={n.kind === "artifact" ? 2 : 10} />
                <text x={n.x} y={n.y - 4} textAnchor="middle" className="lineage-label">
                  {n.label.length > 34 ? `${n.label.slice(0, 33)}…` : n.label}
                </text>
                <text x={n.x} y={n.y + 13} textAnchor="middle" className="lineage-detail">
                  {n.detail.length > 34 ? `${n.detail.slice(0, 33)}…` : n.detail}
                </text>
              </g>
            );
            return n.href && n.id !== data.root ? (
              <a key={n.id} href={n.href} data-node={n.id} aria-label={`${n.kind} ${n.label}`}>
                {box}
              </a>
            ) : (
              <g key={n.id} data-node={n.id}>
                {box}
              </g>
            );
          })}
        </svg>
      </div>
      <p className="muted small">Runs are rounded, artifact versions square; click one to open it.</p>
    </div>
  );
}
