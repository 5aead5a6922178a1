import type { Services } from "./index";

export type EdgeType = "produced" | "used" | "teacher" | "base" | "stage" | "attempt" | "fork";
/**
 * A lineage node. `id` is typed (`run:<id>`, `artifact:<versionId>`, `attempt:<jobId>:<n>`);
 * `refId` is the run id or artifact version id behind it; `href` the dashboard page to open.
 */
export type Node = {
  id: string;
  kind: "run" | "artifact" | "attempt";
  refId: string;
  label: string;
  /** a run's status, an artifact version's type and aliases, an attempt's outcome */
  detail: string;
  projectId: string | null;
  href: string | null;
};
export type Edge = { from: string; to: string; type: EdgeType };
/** `out`: the edge goes from `self` to `node` (what came from it); otherwise into `self` */
export type Link = { node: Node; type: EdgeType; out: boolean };
export type Neighbours = { self: Node; links: Link[] };

/** children found per kind of edge; more are not drawn (a graph that wide is unreadable) */
const FAN_OUT = 50;
/** distill/fine-tune jobs scanned for ones starting from a given run or artifact version */
const SOURCE_SCAN = 2000;

type RunRow = { id: string; name: string; status: string; projectId: string; project?: { name: string } };
type Json = Record<string, unknown>;

function runNode(r: RunRow): Node {
  return { id: `run:${r.id}`, kind: "run", refId: r.id, label: r.name, detail: r.status, projectId: r.projectId, href: `/runs/${r.id}` };
}

type VersionRow = {
  id: string;
  version: number;
  artifact: { name: string; type: string; projectId: string; project?: { name: string } | null };
  aliases: { alias: string }[];
};
const VERSION_SELECT = {
  id: true,
  version: true,
  artifact: { select: { name: true, type: true, projectId: true } },
  aliases: { select: { alias: true }, orderBy: { alias: "asc" } },
} as const;

function versionNode(v: VersionRow, projectName: string | null): Node {
  const aliases = v.aliases.map((a) => a.alias).join(", ");
  return {
    id: `artifact:${v.id}`,
    kind: "artifact",
    refId: v.id,
    label: `${v.artifact.name}:v${v.version}`,
    detail: aliases ? `${v.artifact.type} · ${aliases}` : v.artifact.type,
    projectId: v.artifact.projectId,
    href: projectName ? `/projects/${encodeURIComponent(projectName)}/artifacts/${encodeURIComponent(v.artifact.name)}?version=v${v.version}` : null,
  };
}

/**
 * the teacher (distill) or base (fine-tune) a spec starts from: a run, an artifact version
 * resolved at submit, or an earlier pipeline stage's job (`{fromStage, jobId}`: its run is
 * made when that stage runs, so the edge is found through the job)
 */
export function sourceOfSpec(spec: unknown): { type: "teacher" | "base"; runId?: string; versionId?: string; jobId?: string } | null {
  const s = spec as Json | null;
  const ref = (s?.kind === "distill" ? s.teacher : s?.kind === "finetune" ? s.base : null) as Json | null | undefined;
  if (!ref) return null;
  const type = s?.kind === "distill" ? "teacher" : "base";
  if (typeof ref.versionId === "string") return { type, versionId: ref.versionId };
  if (typeof ref.runId === "string") return { type, runId: ref.runId };
  if (typeof ref.fromStage === "string" && typeof ref.jobId === "string") return { type, jobId: ref.jobId };
  return null;
}

async function projectNames(services: Services, ids: string[]) {
  const rows = await services.prisma.project.findMany({ where: { id: { in: [...new Set(ids)] } }, select: { id: true, name: true } });
  return new Map(rows.map((p) => [p.id, p.name]));
}

async function versionNodes(services: Services, ids: string[]): Promise<Map<string, Node>> {
  if (!ids.length) return new Map();
  const rows = await services.prisma.artifactVersion.findMany({ where: { id: { in: ids } }, select: VERSION_SELECT });
  const names = await projectNames(
    services,
    rows.map((r) => r.artifact.projectId),
  );
  return new Map(rows.map((r) => [r.id, versionNode(r, names.get(r.artifact.projectId) ?? null)]));
}

/** the distill/fine-tune jobs with a run and the run or version each starts from */
export type SourceJobs = { runId: string; type: "teacher" | "base"; fromRunId?: string; fromVersionId?: string; fromJobId?: string }[];

/**
 * Reads the newest SOURCE_SCAN distill/fine-tune jobs' specs once per lineage walk (a spec's
 * JSON is not indexed, so "which jobs start from X" is answered from this list).
 */
export function sourceJobsOnce(services: Services): () => Promise<SourceJobs> {
  let loaded: Promise<SourceJobs> | null = null;
  return () =>
    (loaded ??= services.prisma.job
      .findMany({
        where: { kind: { in: ["distill", "finetune"] }, runId: { not: null } },
        select: { runId: true, spec: true },
        orderBy: { createdAt: "desc" },
        take: SOURCE_SCAN,
      })
      .then((jobs) =>
        jobs.flatMap((j) => {
          const src = sourceOfSpec(j.spec);
          return src ? [{ runId: j.runId!, type: src.type, fromRunId: src.runId, fromVersionId: src.versionId, fromJobId: src.jobId }] : [];
        }),
      ));
}

/** the runs whose job starts from this run or version */
async function jobsStartingFrom(sources: () => Promise<SourceJobs>, ref: { runId?: string; versionId?: string; jobId?: string | null }) {
  const all = await sources();
  return all
    .filter((j) => (ref.runId && j.fromRunId === ref.runId) || (ref.versionId && j.fromVersionId === ref.versionId) || (ref.jobId && j.fromJobId === ref.jobId))
    .slice(0, FAN_OUT);
}

/**
 * A run's neighbours: the run it was forked from and its forks, its teacher/base (run or
 * artifact version) and the runs it taught, the artifact versions it produced and used,
 * earlier attempts of its job, and the neighbouring stages of its pipeline.
 */
// Long because it gathers every kind of edge a run has, each a short query, into one list.
export async function expandRun(services: Services, runId: string, sources = sourceJobsOnce(services)): Promise<Neighbours | null> {
  const { prisma } = services;
  const run = await prisma.run.findUnique({ where: { id: runId } });
  if (!run) return null;
  const self = runNode(run);
  const links: Link[] = [];
  const runSelect = { id: true, name: true, status: true, projectId: true } as const;

  if (run.forkedFromRunId) {
    const parent = await prisma.run.findUnique({ where: { id: run.forkedFromRunId }, select: runSelect });
    if (parent) links.push({ node: runNode(parent), type: "fork", out: false });
  }
  for (const child of await prisma.run.findMany({ where: { forkedFromRunId: run.id }, select: runSelect, take: FAN_OUT }))
    links.push({ node: runNode(child), type: "fork", out: true });

  const job = run.jobId ? await prisma.job.findUnique({ where: { id: run.jobId }, include: { attemptHistory: { orderBy: { attempt: "asc" } } } }) : null;
  const src = job ? sourceOfSpec(job.spec) : null;
  const fromRunId = src?.runId ?? (src?.jobId ? (await prisma.job.findUnique({ where: { id: src.jobId }, select: { runId: true } }))?.runId : null);
  if (src && fromRunId) {
    const from = await prisma.run.findUnique({ where: { id: fromRunId }, select: runSelect });
    if (from) links.push({ node: runNode(from), type: src.type, out: false });
  }
  for (const c of await jobsStartingFrom(sources, { runId: run.id, jobId: run.jobId })) {
    const child = await prisma.run.findUnique({ where: { id: c.runId }, select: runSelect });
    if (child) links.push({ node: runNode(child), type: c.type, out: true });
  }

  // artifact versions: produced by this run (or its job), used by it (recorded uses and its spec's source)
  const produced = await prisma.artifactVersion.findMany({
    where: { OR: [{ runId: run.id }, ...(run.jobId ? [{ jobId: run.jobId }] : [])] },
    select: { id: true },
    take: FAN_OUT,
  });
  const uses = await prisma.artifactUse.findMany({
    where: { OR: [{ runId: run.id }, ...(run.jobId ? [{ jobId: run.jobId }] : [])] },
    select: { versionId: true },
    take: FAN_OUT,
  });
  const usedIds = new Set([...uses.map((u) => u.versionId), ...(src?.versionId ? [src.versionId] : [])]);
  const nodes = await versionNodes(services, [...produced.map((p) => p.id), ...usedIds]);
  for (const p of produced) if (nodes.has(p.id)) links.push({ node: nodes.get(p.id)!, type: "produced", out: true });
  for (const id of usedIds) if (nodes.has(id)) links.push({ node: nodes.get(id)!, type: "used", out: false });

  // earlier attempts of the job (lost, requeued): each one led into this run
  const attempts = job?.attemptHistory ?? [];
  if (attempts.length > 1)
    for (const a of attempts.slice(0, -1))
      links.push({
        node: {
          id: `attempt:${job!.id}:${a.attempt}`,
          kind: "attempt",
          refId: job!.id,
          label: `attempt ${a.attempt}`,
          detail: `${a.status}${a.runnerName ? ` on ${a.runnerName}` : ""}`,
          projectId: run.projectId,
          href: `/runs/${run.id}`,
        },
        type: "attempt",
        out: false,
      });

  if (job) links.push(...(await pipelineStages(services, job)));
  return { self, links };
}

/** The previous and next stage of a pipeline stage's job (a `stage` edge each way). */
async function pipelineStages(services: Services, job: { pipelineJobId: string | null; stageIndex: number | null }): Promise<Link[]> {
  const { pipelineJobId, stageIndex } = job;
  if (pipelineJobId === null || stageIndex === null) return [];
  const stages = await services.prisma.job.findMany({
    where: { pipelineJobId, stageIndex: { in: [stageIndex - 1, stageIndex + 1] } },
    select: { runId: true, stageIndex: true },
  });
  const links: Link[] = [];
  for (const s of stages) {
    if (!s.runId) continue;
    const r = await services.prisma.run.findUnique({ where: { id: s.runId }, select: { id: true, name: true, status: true, projectId: true } });
    if (r) links.push({ node: runNode(r), type: "stage", out: (s.stageIndex ?? 0) > stageIndex });
  }
  return links;
}

/**
 * An artifact version's neighbours: the run that produced it and the runs that used it
 * (recorded uses, and jobs whose teacher/base names it). `id` may also name an artifact:
 * its newest version stands for it.
 */
export async function expandArtifact(services: Services, id: string, sources = sourceJobsOnce(services)): Promise<Neighbours | null> {
  const { prisma } = services;
  let version = await prisma.artifactVersion.findUnique({ where: { id }, select: { ...VERSION_SELECT, runId: true, jobId: true } });
  version ??= await prisma.artifactVersion.findFirst({
    where: { artifactId: id },
    orderBy: { version: "desc" },
    select: { ...VERSION_SELECT, runId: true, jobId: true },
  });
  if (!version) return null;
  const names = await projectNames(services, [version.artifact.projectId]);
  const self = versionNode(version, names.get(version.artifact.projectId) ?? null);
  const links: Link[] = [];
  const runSelect = { id: true, name: true, status: true, projectId: true } as const;

  const producerRunId =
    version.runId ?? (version.jobId ? (await prisma.job.findUnique({ where: { id: version.jobId }, select: { runId: true } }))?.runId : null);
  if (producerRunId) {
    const r = await prisma.run.findUnique({ where: { id: producerRunId }, select: runSelect });
    if (r) links.push({ node: runNode(r), type: "produced", out: false });
  }
  const uses = await prisma.artifactUse.findMany({
    where: { versionId: version.id },
    select: { runId: true, jobId: true },
    orderBy: { id: "desc" },
    take: FAN_OUT,
  });
  const userRunIds = new Set<string>();
  for (const u of uses) {
    const rid = u.runId ?? (u.jobId ? (await prisma.job.findUnique({ where: { id: u.jobId }, select: { runId: true } }))?.runId : null);
    if (rid) userRunIds.add(rid);
  }
  for (const c of await jobsStartingFrom(sources, { versionId: version.id })) userRunIds.add(c.runId);
  const users = await prisma.run.findMany({ where: { id: { in: [...userRunIds] } }, select: runSelect, take: FAN_OUT });
  for (const r of users) links.push({ node: runNode(r), type: "used", out: true });
  return { self, links };
}
