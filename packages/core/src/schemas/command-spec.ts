import { z } from "zod";

/** what the runner sets itself: a spec may not replace the job's credentials or run identity */
export const RESERVED_COMMAND_ENV = ["HERON_HOST", "HERON_API_KEY", "HERON_LEASE", "HERON_RUN_ID", "HERON_RESUME", "HERON_CHECKPOINT_DIR"];

/**
 * A user's own program on a runner: argv only (never a shell, so no quoting or injection
 * through arguments), a working directory inside the runner's per-job folder, extra
 * environment variables with plain names. Runners run these only when started with
 * --allow-commands (docs/jobs.md).
 */
export const CommandSpecSchema = z.object({
  kind: z.literal("command"),
  command: z
    .array(
      z
        .string()
        .min(1, "an argument must not be empty")
        .max(10_000)
        .refine((s) => !s.includes("\0"), "an argument must not hold NUL"),
    )
    .min(1, "command needs at least the program")
    .max(1000),
  /** relative to the runner's HERON_HOME/work/<jobId>; plain path segments only */
  cwd: z
    .string()
    .max(1000)
    .refine(
      (s) => !s.startsWith("/") && !s.split("/").some((p) => p === ".." || p.includes("\0")),
      "cwd must be a relative path inside the job's folder (no '..')",
    )
    .optional(),
  env: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "environment variable names are letters, digits and '_' (not starting with a digit)")
        .refine((k) => !RESERVED_COMMAND_ENV.includes(k), "this variable is set by the runner"),
      z
        .string()
        .max(100_000)
        .refine((s) => !s.includes("\0"), "a value must not hold NUL"),
    )
    .optional(),
  /** informational for now: what the program expects of its host */
  resources: z
    .object({ gpus: z.number().int().min(0).max(64).optional(), cpus: z.number().int().min(0).optional(), memoryBytes: z.number().min(0).optional() })
    .optional(),
});
export type CommandSpec = z.infer<typeof CommandSpecSchema>;
