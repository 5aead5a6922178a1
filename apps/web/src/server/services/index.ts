import type { Database, MetricsStore } from "@heron/db";
import { createMetricsStore } from "@heron/db";
import type { Logger } from "pino";

import { createAuthorizer } from "../auth/authorize";
import { createAlertService } from "./alerts";
import { createApiKeyService } from "./api-keys";
import { createArtifactService, openBlobIndex } from "./artifacts";
import { createAuditService } from "./audit";
import { createAuthService } from "./auth";
import { createIngest } from "./ingest";
import { watchFinishedJobs } from "./job-model-artifact";
import { createJobService } from "./jobs";
import { createMemberService } from "./members";
import { createLateNotifier } from "./notifier";
import { createProjectService } from "./projects";
import { createRunnerService } from "./runners";
import { createRunService } from "./runs";
import { createSweepHooks, createSweepService } from "./sweeps";
import { createUserService } from "./users";
import { createViewService } from "./views";

export type ServicesOptions = {
  leaseTtlMs: number;
  localKeyHash: string | null;
  /** the server's public base URL (run links); known once the server listens */
  publicUrl: () => string;
  /** background work (alert deliveries) logs here */
  log?: Logger;
  /** HERON_HOME/blobs: artifact files and checkpoints, content-addressed (one volume for every server process) */
  blobsDir: string;
  /** how long an unreferenced blob outlives its last use (default 10 min; tests 0) */
  blobGraceMs?: number;
};

/** Everything the routers and socket handlers call; built once per server process. */
export function createServices(db: Database, opts: ServicesOptions) {
  // sweep trials' points and ended jobs wake this process's sweep controller (services/sweeps/hooks.ts)
  const sweepHooks = createSweepHooks();
  const metrics: MetricsStore = sweepHooks.watchMetrics(createMetricsStore(db));
  // run statuses and live points also fire alert rules (services/alerts)
  const alerts = createAlertService(db.prisma, { publicUrl: opts.publicUrl, log: opts.log });
  // a succeeded job's final checkpoint is logged as a model artifact (services/job-model-artifact.ts)
  const notifier = watchFinishedJobs(alerts.watchNotifier(sweepHooks.watchNotifier(createLateNotifier())), () => ({
    prisma: db.prisma,
    artifacts,
    log: opts.log,
  }));
  const projects = createProjectService(db.prisma);
  const runs = createRunService(db.prisma, metrics, projects);
  // artifact files and checkpoints, content-addressed (services/artifacts/blob-store.ts)
  const blobs = openBlobIndex(db.prisma, opts.blobsDir, opts.blobGraceMs);
  const jobs = createJobService(db, projects, runs, notifier, { leaseTtlMs: opts.leaseTtlMs, blobs });
  const runners = createRunnerService(db.prisma, (runnerId) => void alerts.onRunnerOffline(runnerId));
  const auth = createAuthService(db.prisma, opts.localKeyHash);
  const access = createAuthorizer(db.prisma);
  const users = createUserService(db.prisma);
  const apiKeys = createApiKeyService(db.prisma);
  const members = createMemberService(db.prisma);
  const audit = createAuditService(db.prisma);
  const sweeps = createSweepService(db.prisma, projects, jobs, sweepHooks.wake);
  const views = createViewService(db.prisma);
  const artifacts = createArtifactService(db.prisma, audit, access, blobs);
  const ingest = createIngest({ prisma: db.prisma, runs, members, notifier, alerts }, metrics, opts.publicUrl);
  return {
    db,
    prisma: db.prisma,
    metrics,
    notifier,
    projects,
    runs,
    jobs,
    runners,
    auth,
    access,
    users,
    apiKeys,
    members,
    audit,
    ingest,
    sweeps,
    sweepHooks,
    alerts,
    views,
    artifacts,
  };
}
export type Services = ReturnType<typeof createServices>;
