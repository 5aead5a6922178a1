import { describe, expect, it } from "vitest";

import { layoutLineage, NODE_HEIGHT } from "./lineage-layout";

const node = (id: string, kind: "run" | "artifact" = "run") => ({ id, kind, label: id, detail: "finished", href: `/x/${id}` });

describe("lineage layout", () => {
  it("places what a node came from left of it, without overlaps, inside the drawing", () => {
    const nodes = [node("run:teacher"), node("artifact:v0", "artifact"), node("run:student"), node("run:fork")];
    const edges = [
      { from: "run:teacher", to: "artifact:v0", type: "produced" },
      { from: "artifact:v0", to: "run:student", type: "used" },
      { from: "run:student", to: "run:fork", type: "fork" },
      // both ends must be drawn, or the edge is left out
      { from: "run:student", to: "run:elsewhere", type: "fork" },
    ];
    const g = layoutLineage(nodes, edges);
    const at = (id: string) => g.nodes.find((n) => n.id === id)!;
    expect(at("run:teacher").x).toBeLessThan(at("artifact:v0").x);
    expect(at("artifact:v0").x).toBeLessThan(at("run:student").x);
    expect(at("run:student").x).toBeLessThan(at("run:fork").x);
    expect(g.edges.map((e) => e.type)).toEqual(["produced", "used", "fork"]);
    for (const e of g.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    for (const n of g.nodes) {
      expect(n.height).toBe(NODE_HEIGHT);
      expect(n.x - n.width / 2).toBeGreaterThanOrEqual(0);
      expect(n.x + n.width / 2).toBeLessThanOrEqual(g.width);
      expect(n.y + n.height / 2).toBeLessThanOrEqual(g.height);
    }
  });

  it("keeps two edges of different types between the same pair", () => {
    const g = layoutLineage(
      [node("run:a"), node("run:b")],
      [
        { from: "run:a", to: "run:b", type: "teacher" },
        { from: "run:a", to: "run:b", type: "fork" },
      ],
    );
    expect(g.edges.map((e) => e.type).sort()).toEqual(["fork", "teacher"]);
  });
});
