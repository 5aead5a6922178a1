import type { AcceptedOf, RunInit, SdkToServer } from "@heron/core";

import type { IngestDeps } from ".";
import { type IngestSession, writerKey } from "./session";

/**
 * Creates or resumes the run a writer logs to, and tells it the last batch the server holds
 * from it (the SDK resends from there). Rank 0 owns the run's metadata (config, environment,
 * name, tags, group, notes, host) and its state: another rank joining (or coming back)
 * changes none of it, and must not bring a run rank 0 already ended back to running.
 */
export async function initRun(deps: IngestDeps, session: IngestSession, input: RunInit): Promise<AcceptedOf<SdkToServer, "run:init">> {
  const p = session.principal;
  const { services, writer: batches } = deps;
  const forcedRunId = p.kind === "job" ? p.runId : undefined;
  const rank = input.rank ?? 0;
  const asInit =
    rank === 0
      ? input
      : {
          ...input,
          config: undefined,
          environment: undefined,
          name: undefined,
          tags: undefined,
          group: undefined,
          notes: undefined,
          host: undefined,
          sync: true,
        };
  const isNewProject = p.kind === "user" && !!p.userId && !(await services.prisma.project.findUnique({ where: { name: input.project }, select: { id: true } }));
  const { run, project, resumed, lastStep } = await services.runs.init(asInit, { forcedRunId });
  // a project created by a user's first run is theirs to manage
  if (isNewProject && p.kind === "user" && p.userId) await services.members.set(project.id, p.userId, "maintainer");
  const writer = input.writer ?? String(rank);
  session.ranks.set(writerKey(run.id, writer), rank);
  const lastSeq = await batches.lastSeq(run.id, writer);
  return {
    runId: run.id,
    projectId: project.id,
    resumed,
    lastStep,
    lastSeq,
    url: `${deps.publicUrl()}/runs/${run.id}`,
    status: run.status,
    startedAt: run.createdAt.getTime(),
  };
}
