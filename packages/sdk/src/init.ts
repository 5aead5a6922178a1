import path from "node:path";

import { ProjectNameSchema } from "@heron/core";

import { RunArtifacts } from "./artifacts/run-artifacts";
import { captureEnvironment, readTfjs } from "./environment";
import { attachProcessHooks } from "./lifecycle";
import { type Mode, Run, syncCommand } from "./run";
import { defaultRunDir, newRunId, newWriterId, readRunMeta, readWriterMeta, writeRunMeta, writeWriterMeta } from "./run-dir";
import { type InitOk, Sender } from "./sender";
import { leftoverLastStep, leftoverWriters, Takeover } from "./takeover";
import { listWriters, WriteAheadLog } from "./wal";

export type InitOptions = {
  project: string;
  name?: string;
  config?: Record<string, unknown>;
  tags?: string[];
  group?: string;
  notes?: string;
  /** server URL; default HERON_HOST or http://127.0.0.1:3000 */
  host?: string;
  /** default HERON_API_KEY */
  apiKey?: string;
  /** online (default, or HERON_MODE): WAL + server; offline: WAL only (`heron sync` later); disabled: nothing */
  mode?: Mode;
  /** with `id`: never (default) refuses an existing run, allow continues it if it exists, must requires it */
  resume?: "never" | "allow" | "must";
  id?: string;
  /** run directory; default $HERON_HOME/runs/<id> */
  dir?: string;
  /** process rank of a distributed job: ranks log into one run; rank 0 owns the config */
  rank?: number;
  /** extra environment facts, merged over the captured ones */
  environment?: Record<string, unknown>;
  /** capture node/OS/host/git/dependencies (default true) */
  captureEnvironment?: boolean;
  /** capture stdout/stderr lines (default true; false for runner jobs, whose runner forwards output) */
  captureConsole?: boolean;
  /** sys/<host>/… metrics every `systemIntervalMs` (default true) */
  captureSystem?: boolean;
  /** mark the run finished / crashed / aborted when the process ends (default true) */
  captureExit?: boolean;
  systemIntervalMs?: number;
  heartbeatIntervalMs?: number;
  flushIntervalMs?: number;
  flushPoints?: number;
  /**
   * how long init waits for the server (default 5 s): then it carries on offline-first — logging
   * to the WAL while it keeps reconnecting in the background — instead of holding up training
   */
  initTimeoutMs?: number;
  /**
   * how long finish() waits for the server's acks by default (30 s; 10 min for a runner's job);
   * what is left stays for `heron sync`
   */
  finishTimeoutMs?: number;
};

const DEFAULT_INIT_TIMEOUT_MS = 5_000;
const DEFAULT_FINISH_TIMEOUT_MS = 30_000;
const JOB_FINISH_TIMEOUT_MS = 10 * 60_000;

function readMode(value: string | undefined): Mode | undefined {
  return value === "online" || value === "offline" || value === "disabled" ? value : undefined;
}

// Long because it is init's sequence in order (options, run folder, WAL, takeover of leftovers,
// bounded connect, capture hooks); each step is a call into its own module.
/** Starts (or resumes) a run. Online, a server that is down does not stop training: data waits in the WAL. */
export async function init(opts: InitOptions): Promise<Run> {
  const parsed = ProjectNameSchema.safeParse(opts.project);
  if (!parsed.success) throw new Error(`heron init: project: ${parsed.error.issues[0]?.message}`);
  const mode: Mode = opts.mode ?? readMode(process.env.HERON_MODE) ?? "online";
  const host = (opts.host ?? process.env.HERON_HOST ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
  const apiKey = opts.apiKey ?? process.env.HERON_API_KEY;
  const rank = opts.rank ?? 0;
  const isJobToken = typeof apiKey === "string" && apiKey.startsWith("hj_");
  const id = opts.id ?? newRunId();
  const startedAt = Date.now();
  const common = {
    id,
    rank,
    startedAt,
    flushIntervalMs: opts.flushIntervalMs ?? 500,
    flushPoints: opts.flushPoints ?? 10_000,
    // a runner's job (job token) has nobody to run `heron sync` after it: it waits longer
    finishTimeoutMs: opts.finishTimeoutMs ?? (isJobToken ? JOB_FINISH_TIMEOUT_MS : DEFAULT_FINISH_TIMEOUT_MS),
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 10_000,
    systemIntervalMs: opts.systemIntervalMs ?? 10_000,
    tfjsBackend: readTfjs()?.backend ?? null,
  };
  if (mode === "disabled") {
    return new Run({ ...common, url: "", mode, dir: null, lastStep: null, wal: null, sender: null, captureConsole: false, captureSystem: false });
  }

  const dir = path.resolve(opts.dir ?? defaultRunDir(id));
  const environment = opts.captureEnvironment === false ? opts.environment : { ...captureEnvironment(), ...opts.environment };
  const previous = readRunMeta(dir);
  writeRunMeta(dir, {
    id,
    project: opts.project,
    name: opts.name ?? previous?.name,
    config: rank === 0 ? { ...previous?.config, ...opts.config } : previous?.config,
    tags: opts.tags ?? previous?.tags,
    group: opts.group ?? previous?.group,
    notes: opts.notes ?? previous?.notes,
    host,
    mode,
    startedAt: previous?.startedAt ?? startedAt,
    environment: environment ?? previous?.environment,
  });
  const writer = newWriterId(rank);
  writeWriterMeta(dir, writer, { rank, pid: process.pid, startedAt });
  const wal = new WriteAheadLog(dir, writer);
  // what earlier processes of this run left here unsent (killed, or exited offline)
  const resuming = !!opts.id && (opts.resume === "allow" || opts.resume === "must") && previous?.id === id;
  const leftovers = resuming ? leftoverWriters(dir, writer, rank) : [];
  const leftoverStep = leftoverLastStep(dir, leftovers);
  // a local resume (offline) continues after the highest step this directory saw
  const localLastStep = listWriters(dir).reduce<number | null>((m, w) => {
    const s = readWriterMeta(dir, w)?.lastStep;
    return s === undefined ? m : Math.max(m ?? -1, s);
  }, leftoverStep);

  let sender: Sender | null = null;
  let ack: InitOk | null = null;
  let takeover: Takeover | null = null;
  if (mode === "online") {
    if (leftovers.length) {
      console.warn(
        `[heron] uploading what earlier processes of run ${id} left unsent in ${dir} (${leftovers.length} writer${leftovers.length > 1 ? "s" : ""})`,
      );
      // the leftovers' run:init first: with resume "must" the run may exist only through them
      takeover = new Takeover(dir, previous!, leftovers, { host, apiKey });
    }
    sender = new Sender({
      host,
      apiKey,
      wal,
      writer,
      init: {
        project: opts.project,
        id,
        // an id we just made cannot collide: "allow" makes retries of a lost first ack harmless
        resume: opts.id ? (opts.resume ?? "never") : "allow",
        name: opts.name,
        config: rank === 0 ? opts.config : undefined,
        tags: opts.tags,
        group: opts.group,
        notes: opts.notes,
        host: typeof environment?.hostname === "string" ? environment.hostname : undefined,
        environment,
        rank,
        startedAt: previous?.startedAt ?? startedAt,
      },
    });
    if (takeover) sender.hold(takeover.done);
    const own = sender;
    const starting = takeover ? takeover.ready.then(() => own.start()) : own.start();
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), opts.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS)));
      ack = await Promise.race([starting, deadline]);
      // the leftovers reach the server before init returns (within the same time budget): a
      // caller that rewinds the run right after init — a job's next attempt does, through its
      // runner — must find them there already, or they would land after its rewind
      if (ack && takeover) await Promise.race([takeover.done, deadline]);
    } catch (err) {
      takeover?.close();
      sender.close();
      wal.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
  const url = ack?.url ?? `${host}/runs/${id}`;
  // where to look: the link works now, or once the data is there (named so the user knows what to do)
  if (ack) console.warn(`[heron] run ${id}: ${url}`);
  else if (mode === "online")
    console.warn(`[heron] cannot reach ${host} yet; logging to ${dir} and uploading in the background — the run appears at ${url} once it arrives`);
  else console.warn(`[heron] offline: logging run ${id} to ${dir}; it appears on a server after: ${syncCommand(dir)}`);

  const run = new Run({
    ...common,
    url,
    mode,
    dir,
    // the server does not know the leftovers' steps yet: continue after them too
    lastStep: ack ? maxStep(ack.lastStep, leftoverStep) : localLastStep,
    startedAt: ack?.startedAt ?? previous?.startedAt ?? startedAt,
    wal,
    sender,
    takeover,
    artifacts: new RunArtifacts({ project: opts.project, runId: id, dir, online: mode === "online", host, apiKey }),
    captureConsole: opts.captureConsole ?? !isJobToken,
    captureSystem: opts.captureSystem ?? true,
  });
  if (opts.captureExit !== false) run.detach = attachProcessHooks(run);
  return run;
}

function maxStep(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}
