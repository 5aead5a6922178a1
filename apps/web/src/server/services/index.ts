import type { Database, MetricsStore } from "@heron/db";
import { createMetricsStore } from "@heron/db";
import { createAuthService } from "./auth";
import { createJobService } from "./jobs";
import { createLateNotifier } from "./notifier";
import { createProjectService } from "./projects";
import { createRunnerService } from "./runners";
import { createRunService } from "./runs";

export type ServicesOptions = { leaseTtlMs: number; localKeyHash: string | null };

/** Everything the routers and socket handlers call; built once per server process. */
export function createServices(db: Database, opts: ServicesOptions) {
  const metrics: MetricsStore = createMetricsStore(db);
  const notifier = createLateNotifier();
  const projects = createProjectService(db.prisma);
  const runs = createRunService(db.prisma, metrics, projects);
  const jobs = createJobService(db, projects, runs, notifier, { leaseTtlMs: opts.leaseTtlMs });
  const runners = createRunnerService(db.prisma);
  const auth = createAuthService(db.prisma, opts.localKeyHash);
  return { db, prisma: db.prisma, metrics, notifier, projects, runs, jobs, runners, auth };
}
export type Services = ReturnType<typeof createServices>;
