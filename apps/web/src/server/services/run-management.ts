import { AppError } from "@heron/core";
import { z } from "zod";

import { actorOf, type Principal } from "../auth/principal";
import type { Services } from "./index";

const TagSchema = z.string().trim().min(1, "a tag must not be empty").max(64, "a tag is longer than 64 characters");

export const RunUpdateSchema = z.object({
  runId: z.string().min(1).max(64),
  name: z.string().trim().min(1, "name must not be empty").max(200, "name is longer than 200 characters").optional(),
  /** markdown; the dashboard renders it without raw HTML */
  notes: z.string().max(20_000, "notes are longer than 20,000 characters").optional(),
  /** the run's whole tag list (add/remove are done by the caller on the current list) */
  tags: z.array(TagSchema).max(50, "a run holds at most 50 tags").optional(),
});
export type RunUpdate = z.infer<typeof RunUpdateSchema>;

export const RunIdsSchema = z.object({ runIds: z.array(z.string().min(1).max(64)).min(1, "runIds must name at least one run").max(1000) });

/** Which runs run.list returns: the live ones (default), archived ones too, or only the trash. */
export const RunListViewSchema = z.enum(["active", "all", "archived", "trash"]);
export type RunListView = z.infer<typeof RunListViewSchema>;

/** the prisma `where` for one view; trashed runs only ever appear in the trash view */
export function runViewWhere(view: RunListView = "active") {
  if (view === "trash") return { deletedAt: { not: null } };
  if (view === "archived") return { deletedAt: null, archivedAt: { not: null } };
  if (view === "all") return { deletedAt: null };
  return { deletedAt: null, archivedAt: null };
}

async function requireRuns(services: Services, runIds: string[]) {
  const ids = [...new Set(runIds)];
  const runs = await services.prisma.run.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, projectId: true, deletedAt: true } });
  const missing = ids.find((id) => !runs.some((r) => r.id === id));
  if (missing) throw new AppError("NOT_FOUND", `run "${missing}" not found`);
  return runs;
}

/** Rename, re-tag or annotate one run; tags are de-duplicated in the order given. */
export async function updateRun(services: Services, input: RunUpdate) {
  const [run] = await requireRuns(services, [input.runId]);
  if (run?.deletedAt) throw new AppError("BAD_REQUEST", `run "${input.runId}" is in the trash; restore it first`);
  return services.prisma.run.update({
    where: { id: input.runId },
    data: {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.notes !== undefined ? { notes: input.notes || null } : {}),
      ...(input.tags !== undefined ? { tags: [...new Set(input.tags)] } : {}),
    },
  });
}

/** Archive (`archived`: true) or unarchive runs; returns how many changed. */
export async function setArchived(services: Services, runIds: string[], archived: boolean) {
  await requireRuns(services, runIds);
  const { count } = await services.prisma.run.updateMany({
    where: { id: { in: runIds }, archivedAt: archived ? null : { not: null } },
    data: { archivedAt: archived ? new Date() : null },
  });
  return { count };
}

/** Moves runs to their project's trash: hidden everywhere, their points kept until emptyTrash. */
export async function trashRuns(services: Services, principal: Principal, runIds: string[]) {
  const runs = await requireRuns(services, runIds);
  const { actor, actorLabel } = actorOf(principal);
  const { count } = await services.prisma.run.updateMany({
    where: { id: { in: runIds }, deletedAt: null },
    data: { deletedAt: new Date(), deletedBy: actorLabel ?? actor },
  });
  await services.audit.record(principal, {
    action: "run.delete",
    target: runs.length === 1 ? runs[0]!.id : null,
    detail: { runs: runs.map((r) => ({ id: r.id, name: r.name, projectId: r.projectId })) },
  });
  return { count };
}

export async function restoreRuns(services: Services, runIds: string[]) {
  await requireRuns(services, runIds);
  const { count } = await services.prisma.run.updateMany({
    where: { id: { in: runIds }, deletedAt: { not: null } },
    data: { deletedAt: null, deletedBy: null },
  });
  return { count };
}

/**
 * Deletes every trashed run of a project for good: its metric chunks and rollups first (the
 * bulk of the storage, outside the Run row's cascade), then the row with its logs, texts and media.
 */
export async function emptyTrash(services: Services, principal: Principal, project: string) {
  const { id: projectId } = await services.projects.get(project);
  const runs = await services.prisma.run.findMany({ where: { projectId, deletedAt: { not: null } }, select: { id: true, name: true } });
  for (const r of runs) {
    await services.metrics.deleteRun(r.id);
    await services.prisma.run.delete({ where: { id: r.id } });
  }
  await services.audit.record(principal, { action: "run.emptyTrash", target: projectId, detail: { runs: runs.map((r) => ({ id: r.id, name: r.name })) } });
  return { count: runs.length };
}

/** Moves runs to another project; the caller must be a maintainer there too (the policy checked the source). */
export async function moveRuns(services: Services, principal: Principal, runIds: string[], project: string) {
  await requireRuns(services, runIds);
  const target = await services.projects.get(project);
  await services.access.authorize(principal, { principals: ["user"], scope: "write", role: "maintainer", target: "project" }, "run.move", {
    projectId: target.id,
  });
  const { count } = await services.prisma.run.updateMany({ where: { id: { in: runIds } }, data: { projectId: target.id } });
  await services.audit.record(principal, { action: "run.move", target: target.id, detail: { runIds } });
  return { count, projectId: target.id, projectName: target.name };
}
