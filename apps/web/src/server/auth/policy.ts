import type { ProjectRole, Scope } from "./principal";

/**
 * Where a call's project comes from, read from its input:
 * project (`projectId` | `project`, an id or a name), run (`runId`), job (`jobId`),
 * runs (`runIds`, every one checked), projectName (`project`, created on first use), sweep (`sweepId`),
 * lineage (`runId`, or `artifactId`: an artifact version or an artifact), artifactVersion (`artifactVersionId`).
 * No target: the call is not about one project (lists filter by what the caller may see).
 */
export type Target = "project" | "run" | "job" | "runs" | "projectName" | "sweep" | "lineage" | "artifactVersion";

export type Rule = {
  /** which kinds of principal may call at all */
  principals: readonly ("user" | "job" | "runner")[];
  /** the least key scope (sessions have every scope) */
  scope?: Scope;
  /** instance admins only */
  admin?: true;
  /** the least project role on the target's project(s) */
  role?: ProjectRole;
  target?: Target;
  /** below maintainer, only on the caller's own job (members cancel and retry their own jobs) */
  ownJob?: true;
  /**
   * The least project role that may *read* a run in the trash by its id; default TRASH_ROLE.
   * Below it a read of a trashed run answers "not found" (instance admins always read it): the
   * trash hides a run's metrics, logs and media until it is restored (writes are refused by
   * the services).
   */
  trashed?: ProjectRole;
};

/**
 * Who manages the trash — delete, restore, empty — and so may also *read* a trashed run (its
 * page, charts, logs, media, comparisons): as in W&B or a file manager's trash, whoever may
 * restore a run can look at what they restore. Below this role a trashed run is "not found".
 */
export const TRASH_ROLE: ProjectRole = "maintainer";

const USER = ["user"] as const;
const read = (role: ProjectRole | undefined, target?: Target): Rule => ({ principals: USER, scope: "read", role, target });
const write = (role: ProjectRole | undefined, target?: Target): Rule => ({ principals: USER, scope: "write", role, target });
const adminOnly = (scope: Scope): Rule => ({ principals: USER, scope, admin: true });

/**
 * Every tRPC procedure × who may call it. The tRPC middleware refuses a procedure missing
 * here, and a test walks the router so none can be added without a line in this table.
 */
export const PROCEDURE_POLICY: Record<string, Rule> = {
  "project.list": read(undefined),
  "project.get": read("viewer", "project"),
  "project.create": write(undefined),
  "project.members": read("viewer", "project"),
  "project.addMember": { principals: USER, scope: "admin", role: "maintainer", target: "project" },
  "project.removeMember": { principals: USER, scope: "admin", role: "maintainer", target: "project" },

  "run.list": read("viewer", "project"),
  "run.page": read("viewer", "project"),
  "run.facets": read("viewer", "project"),
  "run.groups": read("viewer", "project"),
  // a trashed run (its page, charts, logs …) reads as "not found" below TRASH_ROLE, the role
  // that may restore it (the run page then offers "Restore"), see authorize.ts
  "run.get": read("viewer", "run"),
  "run.logs": read("viewer", "run"),
  "run.texts": read("viewer", "run"),
  "run.media": read("viewer", "run"),
  "run.mediaData": read("viewer", "run"),
  "run.compareTable": read("viewer", "runs"),
  "run.rewind": write("maintainer", "run"),
  "run.update": write("member", "run"),
  "run.archive": write("member", "runs"),
  "run.unarchive": write("member", "runs"),
  "run.delete": write(TRASH_ROLE, "runs"),
  "run.restore": write(TRASH_ROLE, "runs"),
  "run.emptyTrash": write(TRASH_ROLE, "project"),
  // the destination project's maintainer role is checked in services/run-management.ts
  "run.move": write("maintainer", "runs"),
  // a new job in the run's project, like job.submit
  "run.fork": write("member", "run"),

  // nodes in projects the caller cannot see are left out (services/lineage.ts)
  "lineage.get": read("viewer", "lineage"),

  "metric.keys": read("viewer", "run"),
  "metric.series": read("viewer", "run"),
  "metric.compare": read("viewer", "runs"),
  "metric.summaries": read("viewer", "runs"),
  // the runs are checked to belong to the project (and not be in its trash) in services/grouped-series.ts
  "metric.groupedSeries": read("viewer", "project"),

  "job.submit": write("member", "project"),
  "job.get": read("viewer", "job"),
  "job.list": read("viewer", "project"),
  "job.events": read("viewer", "job"),
  "job.checkpoints": read("viewer", "job"),
  "job.cancel": { ...write("member", "job"), ownJob: true },
  "job.retry": { ...write("member", "job"), ownJob: true },

  "sweep.create": write("member", "project"),
  "sweep.get": read("viewer", "sweep"),
  "sweep.list": read("viewer", "project"),
  "sweep.pause": write("member", "sweep"),
  "sweep.resume": write("member", "sweep"),
  "sweep.cancel": write("member", "sweep"),

  // webhook URLs reach outside: only maintainers manage rules; viewers read them (URLs redacted)
  "alert.list": read("viewer", "project"),
  "alert.deliveries": read("viewer", "project"),
  "alert.create": write("maintainer", "project"),
  "alert.update": write("maintainer", "project"),
  "alert.delete": write("maintainer", "project"),

  "view.list": read("viewer", "project"),
  "view.create": write("member", "project"),
  "view.update": write("member", "project"),
  "view.delete": write("member", "project"),

  // moving an alias (production, staging, …) decides what jobs and users pick up: maintainers
  "artifact.list": read("viewer", "project"),
  "artifact.get": read("viewer", "project"),
  "artifact.setAlias": write("maintainer", "artifactVersion"),

  "runner.list": read(undefined),
  "runner.get": read(undefined),
  "runner.createToken": adminOnly("admin"),
  "runner.revoke": adminOnly("admin"),

  "user.me": read(undefined),
  "user.list": adminOnly("read"),
  "user.create": adminOnly("admin"),
  "user.setRole": adminOnly("admin"),

  // a user manages their own keys; naming another user's key or user needs an admin (checked in the service)
  "apiKey.create": { principals: USER, scope: "admin" },
  "apiKey.list": read(undefined),
  "apiKey.revoke": { principals: USER, scope: "admin" },

  "audit.list": adminOnly("read"),
};

const RUNNER = ["runner"] as const;
const runnerEvent: Rule = { principals: RUNNER };
const runWrite: Rule = { principals: ["user", "job"], scope: "write", role: "member", target: "run" };

/** Every socket.io event a peer may send × who may send it. Unlisted events are refused. */
export const EVENT_POLICY: Record<string, Rule> = {
  "run:init": { principals: ["user", "job"], scope: "write", role: "member", target: "projectName" },
  "run:log": runWrite,
  "run:finish": runWrite,
  "run:config": runWrite,
  "run:heartbeat": runWrite,
  subscribe: { principals: ["user", "job"], scope: "read", role: "viewer", target: "run" },
  unsubscribe: { principals: ["user", "job"] },

  "runner:hello": runnerEvent,
  "runner:claim": runnerEvent,
  "runner:heartbeat": runnerEvent,
  "runner:drain": runnerEvent,
  "job:report": runnerEvent,
  "job:logs": runnerEvent,
  "job:rewind": runnerEvent,
  "job:checkpoint:chunk": runnerEvent,
  "job:checkpoint:commit": runnerEvent,
  "job:checkpoint:latest": runnerEvent,
  "job:checkpoint:read": runnerEvent,
  "job:source-checkpoint:latest": runnerEvent,
  "job:source-checkpoint:read": runnerEvent,
};

/** Raw HTTP routes outside tRPC, under the same rules. */
export const ROUTE_POLICY = {
  metricsCsv: read("viewer", "run"),
  // HTTP API v1 (http/api-v1): the socket events' rules, one transport or the other
  apiV1CreateRun: EVENT_POLICY["run:init"]!,
  apiV1Batch: EVENT_POLICY["run:log"]!,
  apiV1Finish: EVENT_POLICY["run:finish"]!,
  apiV1Config: EVENT_POLICY["run:config"]!,
  apiV1Heartbeat: EVENT_POLICY["run:heartbeat"]!,
  apiV1GetRun: { principals: ["user", "job"], scope: "read", role: "viewer", target: "run" },
  // artifacts (http/artifacts.ts): a job's token reaches its own project only (services/artifacts)
  artifactDownload: { principals: ["user", "job"], scope: "read", role: "viewer", target: "artifactVersion" },
  artifactResolve: { principals: ["user", "job"], scope: "read", role: "viewer", target: "project" },
  artifactUpload: { principals: ["user", "job"], scope: "write", role: "member", target: "project" },
  artifactCommit: { principals: ["user", "job"], scope: "write", role: "member", target: "project" },
  artifactUse: { principals: ["user", "job"], scope: "write", role: "member", target: "artifactVersion" },
  artifactAlias: write("maintainer", "project"),
} satisfies Record<string, Rule>;
