// What the fuzz suite seeds and checks afterwards: the kept run's points, texts, logs and
// metadata (and its CSV export), the kept job, both projects and their members, and every
// user, API key and runner that existed before. Taken twice and compared.
import { rawRequest } from "./fuzz";
import type { FuzzIds } from "./fuzz-payloads";
import type { TestServer } from "./harness";

/** id → the record's stable fields; records created during the run are not compared */
type ById = Record<string, unknown>;

export type KeptSnapshot = { fixed: Record<string, unknown>; users: ById; apiKeys: ById; runners: ById };

const byId = <T extends { id: string }>(rows: T[], fields: (r: T) => unknown): ById => Object.fromEntries(rows.map((r) => [r.id, fields(r)]));

export async function snapshotKept(t: TestServer, ids: FuzzIds): Promise<KeptSnapshot> {
  const runId = ids.keptRunId;
  const keys = await t.api.metric.keys.query({ runId });
  const series = await Promise.all(
    keys.map((k) => t.api.metric.series.query({ runId, key: typeof k === "string" ? k : (k as { key: string }).key, maxPoints: 100_000 })),
  );
  const csv = await rawRequest(t.server.url, { method: "GET", path: `/api/runs/${runId}/metrics.csv`, headers: { authorization: `Bearer ${t.key}` } });
  const job = await t.api.job.get.query({ jobId: ids.keptJobId });
  return {
    fixed: {
      run: await t.api.run.get.query({ runId }),
      keys,
      series,
      csv: { status: csv.status, body: csv.body },
      logs: await t.api.run.logs.query({ runId }),
      texts: await t.api.run.texts.query({ runId }),
      job: { ...job, runner: undefined },
      jobEvents: await t.api.job.events.query({ jobId: ids.keptJobId }),
      keptProject: await t.api.project.get.query({ project: ids.keptProjectId }),
      scratchProject: await t.api.project.get.query({ project: ids.scratchProjectId }),
      members: await t.api.project.members.query({ projectId: ids.keptProjectId }),
    },
    users: byId(await t.api.user.list.query(), (u) => u),
    apiKeys: byId(await t.api.apiKey.list.query(), (k) => ({ ...k, lastUsedAt: undefined })),
    // the fuzzed runner's host info and heartbeat change by design; its token must stay valid
    runners: byId(await t.api.runner.list.query(), (r) => ({ id: r.id, name: r.name })),
  };
}

/** the snapshot restricted to the records `before` holds */
export function restrictTo(after: KeptSnapshot, before: KeptSnapshot): KeptSnapshot {
  const pick = (a: ById, b: ById) => Object.fromEntries(Object.keys(b).map((id) => [id, a[id]]));
  return {
    fixed: after.fixed,
    users: pick(after.users, before.users),
    apiKeys: pick(after.apiKeys, before.apiKeys),
    runners: pick(after.runners, before.runners),
  };
}
