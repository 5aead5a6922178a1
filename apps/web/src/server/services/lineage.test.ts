// lineage.get stays bounded whatever the graph: depth limits the hops, a node cap stops wide
// graphs (and says so), cycles end, unknown starts and bad depths are refused. Rows are
// written directly: what is tested is the walk, not how runs come to be.
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApi, startTestServer, type TestServer } from "../../testing/harness";
import { addTeamMember } from "../../testing/team";
import { LINEAGE_MAX_NODES } from "./lineage";

describe("lineage.get bounds", () => {
  let t: TestServer;
  let projectId: string;
  const run = (id: string, forkedFromRunId: string | null = null, project = projectId) =>
    t.server.services.prisma.run.create({
      data: { id, projectId: project, name: id, status: "finished", forkedFromRunId, forkStep: forkedFromRunId ? 1 : null },
    });

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    projectId = (await t.api.project.create.mutate({ name: "lineage" })).id;
  });
  afterAll(async () => t?.close());

  it("walks `depth` hops each way along a chain of forks (default 3, at most 10)", async () => {
    for (let i = 0; i < 25; i++) await run(`chain-${i}`, i ? `chain-${i - 1}` : null);
    const mid = async (depth?: number) => (await t.api.lineage.get.query({ runId: "chain-12", ...(depth ? { depth } : {}) })).nodes.map((n) => n.refId).sort();
    expect(await mid()).toEqual(["chain-10", "chain-11", "chain-12", "chain-13", "chain-14", "chain-15", "chain-9"]);
    expect(await mid(1)).toEqual(["chain-11", "chain-12", "chain-13"]);
    expect(await mid(10)).toHaveLength(21);
    const g = await t.api.lineage.get.query({ runId: "chain-12", depth: 1 });
    expect(g.root).toBe("run:chain-12");
    expect(g.edges).toEqual(
      expect.arrayContaining([
        { from: "run:chain-11", to: "run:chain-12", type: "fork" },
        { from: "run:chain-12", to: "run:chain-13", type: "fork" },
      ]),
    );
    await expect(t.api.lineage.get.query({ runId: "chain-12", depth: 11 })).rejects.toThrow(/depth must be ≤ 10/);
    await expect(t.api.lineage.get.query({ runId: "chain-12", depth: 0 })).rejects.toThrow(/depth must be ≥ 1/);
  });

  it("stops a wide graph at the node cap and says it was cut", async () => {
    await run("star");
    for (let i = 0; i < 50; i++) {
      await run(`star-${i}`, "star");
      for (let j = 0; j < 5; j++) await run(`star-${i}-${j}`, `star-${i}`);
    }
    const g = await t.api.lineage.get.query({ runId: "star", depth: 10 });
    expect(g.truncated).toBe(true);
    expect(g.nodes).toHaveLength(LINEAGE_MAX_NODES);
    // every edge joins two nodes of the answer
    const ids = new Set(g.nodes.map((n) => n.id));
    expect(g.edges.every((e) => ids.has(e.from) && ids.has(e.to))).toBe(true);
    const small = await t.api.lineage.get.query({ runId: "star", depth: 1 });
    expect(small.truncated).toBe(false);
    expect(small.nodes).toHaveLength(51);
  });

  it("ends on a cycle, visiting each node once", async () => {
    await run("loop-a");
    await run("loop-b", "loop-a");
    await t.server.services.prisma.run.update({ where: { id: "loop-a" }, data: { forkedFromRunId: "loop-b", forkStep: 1 } });
    const g = await t.api.lineage.get.query({ runId: "loop-a", depth: 10 });
    expect(g.nodes.map((n) => n.refId).sort()).toEqual(["loop-a", "loop-b"]);
    expect(g.edges).toHaveLength(2);
    // a fork's chart follows the chain back, and a cycle cannot make it loop either
    const s = await t.api.metric.series.query({ runId: "loop-a", key: "loss" });
    expect(s.steps).toEqual([]);
  });

  it("refuses unknown runs and artifacts, and leaves out projects the caller cannot see", async () => {
    await expect(t.api.lineage.get.query({ runId: "nope" })).rejects.toThrow(/run "nope" not found/);
    await expect(t.api.lineage.get.query({ artifactId: "nope" })).rejects.toThrow(/artifact "nope" not found/);
    const other = (await t.api.project.create.mutate({ name: "lineage-private" })).id;
    await run("private-child", "chain-0", other);
    const viewer = await addTeamMember(t, "viewer@lineage.test", { project: projectId, role: "viewer" });
    const seen = await createApi(t.server.url, viewer.key).lineage.get.query({ runId: "chain-0", depth: 1 });
    expect(seen.nodes.map((n) => n.refId).sort()).toEqual(["chain-0", "chain-1"]);
    const admin = await t.api.lineage.get.query({ runId: "chain-0", depth: 1 });
    expect(admin.nodes.map((n) => n.refId).sort()).toEqual(["chain-0", "chain-1", "private-child"]);
  });

  it("links a pipeline's stages in order (stage edges), from the middle stage both ways", async () => {
    const prisma = t.server.services.prisma;
    const pipe = await prisma.job.create({ data: { projectId, kind: "pipeline", spec: { kind: "pipeline" }, status: "succeeded" } });
    for (const [i, name] of ["encoder", "pretrain", "sft"].entries()) {
      await run(`stage-${name}`);
      await prisma.job.create({
        data: {
          projectId,
          kind: "vlm-stage",
          spec: { kind: "vlm-stage" },
          status: "succeeded",
          runId: `stage-${name}`,
          pipelineJobId: pipe.id,
          stageIndex: i,
          stageName: name,
        },
      });
    }
    for (const [i, name] of ["encoder", "pretrain", "sft"].entries()) {
      const job = await prisma.job.findFirstOrThrow({ where: { pipelineJobId: pipe.id, stageIndex: i } });
      await prisma.run.update({ where: { id: `stage-${name}` }, data: { jobId: job.id } });
    }
    const g = await t.api.lineage.get.query({ runId: "stage-pretrain", depth: 1 });
    expect(g.nodes.map((n) => n.refId).sort()).toEqual(["stage-encoder", "stage-pretrain", "stage-sft"]);
    expect(g.edges).toEqual(
      expect.arrayContaining([
        { from: "run:stage-encoder", to: "run:stage-pretrain", type: "stage" },
        { from: "run:stage-pretrain", to: "run:stage-sft", type: "stage" },
      ]),
    );
  });

  it("links a distill stage to its teacher stage (teacher edge), also when it is not the stage before", async () => {
    const prisma = t.server.services.prisma;
    const pipe = await prisma.job.create({ data: { projectId, kind: "pipeline", spec: { kind: "pipeline" }, status: "succeeded" } });
    const ids: string[] = [];
    for (const [i, name] of ["teach", "other", "learn"].entries()) {
      await run(`kd-${name}`);
      const spec = name === "learn" ? { kind: "distill", teacher: { fromStage: "teach", jobId: ids[0] } } : { kind: "train" };
      const job = await prisma.job.create({
        data: { projectId, kind: spec.kind, spec, status: "succeeded", runId: `kd-${name}`, pipelineJobId: pipe.id, stageIndex: i, stageName: name },
      });
      await prisma.run.update({ where: { id: `kd-${name}` }, data: { jobId: job.id } });
      ids.push(job.id);
    }
    const g = await t.api.lineage.get.query({ runId: "kd-learn", depth: 1 });
    expect(g.edges).toEqual(expect.arrayContaining([{ from: "run:kd-teach", to: "run:kd-learn", type: "teacher" }]));
    const back = await t.api.lineage.get.query({ runId: "kd-teach", depth: 1 });
    expect(back.edges).toEqual(expect.arrayContaining([{ from: "run:kd-teach", to: "run:kd-learn", type: "teacher" }]));
  });
});
