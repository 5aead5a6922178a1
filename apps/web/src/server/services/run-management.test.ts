import { PROTOCOL_VERSION } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApi, startTestServer, type TestServer } from "../../testing/harness";
import { addTeamMember } from "../../testing/team";

/** run.update / archive / delete / restore / emptyTrash / move through tRPC, on SQLite. */
describe("run management", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer("sqlite");
  });
  afterAll(async () => t?.close());

  async function logRun(project: string, name: string, points = 50) {
    const socket = await t.connect();
    const init = await socket.emitWithAck("run:init", { v: PROTOCOL_VERSION, project, name });
    if (!init.ok) throw new Error(init.error);
    const pts = Array.from({ length: points }, (_, i) => ({ key: "loss", step: i, value: 1 / (i + 1), ts: 1_700_000_000_000 + i }));
    await socket.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId: init.runId, seq: 1, writer: "0", points: pts });
    socket.disconnect();
    return init.runId;
  }
  const names = async (project: string, view?: "active" | "all" | "archived" | "trash") =>
    (await t.api.run.list.query({ projectId: project, ...(view ? { view } : {}) })).map((r) => r.name).sort();

  it("renames, tags and annotates a run; rejects an empty name", async () => {
    const runId = await logRun("manage", "before");
    const updated = await t.api.run.update.mutate({ runId, name: "after", tags: ["a", "b", "a"], notes: "# Why\n<script>x</script>" });
    expect(updated).toMatchObject({ name: "after", tags: ["a", "b"], notes: "# Why\n<script>x</script>" });
    expect((await t.api.run.get.query({ runId })).name).toBe("after");
    await expect(t.api.run.update.mutate({ runId, name: " " })).rejects.toThrow(/name must not be empty/);
  });

  it("hides archived runs by default and lists them on request", async () => {
    const runId = await logRun("archive", "old");
    await logRun("archive", "new");
    expect(await t.api.run.archive.mutate({ runIds: [runId] })).toEqual({ count: 1 });
    expect(await names("archive")).toEqual(["new"]);
    expect(await names("archive", "archived")).toEqual(["old"]);
    expect(await names("archive", "all")).toEqual(["new", "old"]);
    await t.api.run.unarchive.mutate({ runIds: [runId] });
    expect(await names("archive")).toEqual(["new", "old"]);
  });

  it("trashes and restores runs, and emptying the trash frees their metrics and is audited", async () => {
    const gone = await logRun("trash", "gone");
    const kept = await logRun("trash", "kept");
    await t.api.run.delete.mutate({ runIds: [gone] });
    expect(await names("trash")).toEqual(["kept"]);
    expect(await names("trash", "all")).toEqual(["kept"]);
    expect(await names("trash", "trash")).toEqual(["gone"]);
    await t.api.run.restore.mutate({ runIds: [gone] });
    expect(await names("trash")).toEqual(["gone", "kept"]);

    await t.api.run.delete.mutate({ runIds: [gone] });
    const metrics = t.server.services.metrics;
    expect((await metrics.summaries([gone]))[gone]?.loss?.count).toBe(50);
    expect(await t.api.run.emptyTrash.mutate({ projectId: "trash" })).toEqual({ count: 1 });
    expect(await metrics.keys(gone)).toEqual([]);
    expect((await metrics.summaries([gone]))[gone] ?? {}).toEqual({});
    expect((await metrics.summaries([kept]))[kept]?.loss?.count).toBe(50);
    await expect(t.api.run.get.query({ runId: gone })).rejects.toThrow(/not found/);
    expect(await names("trash", "trash")).toEqual([]);
    const actions = (await t.api.audit.list.query({ limit: 10 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["run.delete", "run.emptyTrash"]));
  });

  it("lets members tag and archive but keeps delete, emptyTrash and move to maintainers", async () => {
    const runId = await logRun("roles", "r");
    await t.api.project.create.mutate({ name: "roles-2" }).catch(() => undefined);
    const member = createApi(t.server.url, (await addTeamMember(t, "member@manage.test", { project: "roles", role: "member" })).key);
    await member.run.update.mutate({ runId, tags: ["mine"] });
    await member.run.archive.mutate({ runIds: [runId] });
    await expect(member.run.delete.mutate({ runIds: [runId] })).rejects.toThrow(/needs the project role "maintainer"/);
    await expect(member.run.emptyTrash.mutate({ projectId: "roles" })).rejects.toThrow(/maintainer/);

    const maintainer = await addTeamMember(t, "maint@manage.test", { project: "roles", role: "maintainer" });
    const asMaintainer = createApi(t.server.url, maintainer.key);
    // a maintainer of the source only: the destination refuses
    await expect(asMaintainer.run.move.mutate({ runIds: [runId], projectId: "roles-2" })).rejects.toThrow(/maintainer|restricted|cannot/);
    expect(await t.api.run.move.mutate({ runIds: [runId], projectId: "roles-2" })).toMatchObject({ count: 1, projectName: "roles-2" });
    expect(await names("roles-2", "all")).toEqual(["r"]);
  });

  it("hides a trashed run's metrics, logs and comparisons below the role that may restore it; its maintainer reads what it restores", async () => {
    const runId = await logRun("hidden", "binned");
    const other = await logRun("hidden", "alive");
    const viewer = createApi(t.server.url, (await addTeamMember(t, "viewer@trash.test", { project: "hidden", role: "viewer" })).key);
    const member = createApi(t.server.url, (await addTeamMember(t, "member@trash.test", { project: "hidden", role: "member" })).key);
    const maint = createApi(t.server.url, (await addTeamMember(t, "maint@trash.test", { project: "hidden", role: "maintainer" })).key);
    expect((await viewer.metric.series.query({ runId, key: "loss" })).steps).toHaveLength(50);
    await t.api.run.delete.mutate({ runIds: [runId] });

    for (const api of [viewer, member]) {
      await expect(api.run.get.query({ runId })).rejects.toThrow(/in the trash/);
      await expect(api.metric.series.query({ runId, key: "loss" })).rejects.toThrow(/not found \(it is in the trash\)/);
      await expect(api.metric.keys.query({ runId })).rejects.toThrow(/in the trash/);
      await expect(api.metric.compare.query({ runIds: [other, runId], key: "loss" })).rejects.toThrow(/in the trash/);
      await expect(api.metric.summaries.query({ runIds: [runId] })).rejects.toThrow(/in the trash/);
      await expect(api.run.logs.query({ runId })).rejects.toThrow(/in the trash/);
      await expect(api.run.compareTable.query({ runIds: [runId] })).rejects.toThrow(/in the trash/);
      await expect(api.run.restore.mutate({ runIds: [runId] })).rejects.toThrow(/needs the project role "maintainer"/);
    }
    // the maintainer, offered "Restore" on the run page, sees what it would restore: the run, its charts, logs
    expect((await maint.run.get.query({ runId })).deletedAt).not.toBeNull();
    expect(await maint.metric.keys.query({ runId })).toContain("loss");
    expect((await maint.metric.series.query({ runId, key: "loss" })).steps).toHaveLength(50);
    expect((await maint.metric.summaries.query({ runIds: [runId] }))[runId]?.loss?.count).toBe(50);
    await maint.run.logs.query({ runId });
    // admins (the bootstrap key) read it too; the live run stays readable for everyone
    expect((await t.api.metric.series.query({ runId, key: "loss" })).steps).toHaveLength(50);
    expect((await viewer.metric.compare.query({ runIds: [other], key: "loss" }))[0]!.series.steps).toHaveLength(50);
    await maint.run.restore.mutate({ runIds: [runId] });
    expect((await viewer.metric.series.query({ runId, key: "loss" })).steps).toHaveLength(50);
  });

  it("filters run.list by tag and status on the server, before the limit", async () => {
    const old = await logRun("many", "old-tagged", 1);
    await t.api.run.update.mutate({ runId: old, tags: ["rare"] });
    for (let i = 0; i < 3; i++) await logRun("many", `new-${i}`, 1);
    expect((await t.api.run.list.query({ projectId: "many", limit: 2 })).map((r) => r.name)).toEqual(["new-2", "new-1"]);
    expect((await t.api.run.list.query({ projectId: "many", limit: 2, tag: "rare" })).map((r) => r.name)).toEqual(["old-tagged"]);
    expect(await t.api.run.list.query({ projectId: "many", tag: "rare", status: "finished" })).toEqual([]);
  });
});
