import { AppError, formatIssues } from "@heron/core";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";

import { PROCEDURE_POLICY } from "./auth/policy";
import type { Principal, UserPrincipal } from "./auth/principal";
import { inputProblem } from "./input-shape";
import type { Services } from "./services";

export type Context = {
  services: Services;
  principal: Principal | null;
  /** the client's address, for the audit log */
  ip: string | null;
  /** authenticated by the session cookie (not a header): mutations must come from our own origin */
  viaCookie: boolean;
  /** the request's Origin is ours (or absent, as for scripts) */
  sameOrigin: boolean;
};

const CODE_MAP = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  INTERNAL: "INTERNAL_SERVER_ERROR",
} as const;

/**
 * tRPC reports a native error thrown while it reads the input (JSON.parse, or superjson on a
 * hostile `meta`) as BAD_REQUEST with that error's own message ("Cannot read properties of
 * null…"): say what was wrong with the input instead.
 */
function malformedInput(cause: unknown): string | null {
  if (cause instanceof SyntaxError) return "input is not valid JSON";
  if (cause instanceof TypeError || cause instanceof RangeError) return "input is not a valid superjson envelope ({json, meta})";
  return null;
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    // 4xx messages say exactly what was wrong; 5xx never leak internals (no stack, no SQL).
    const zod = error.cause instanceof ZodError ? error.cause : null;
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      message: zod
        ? formatIssues(zod.issues)
        : internal
          ? "internal server error"
          : (error.code === "BAD_REQUEST" && malformedInput(error.cause)) || shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        issues: zod ? zod.issues.map((i) => ({ path: i.path.map(String), message: i.message })) : undefined,
      },
    };
  },
});

/** Maps our AppError family onto tRPC errors in one place. */
const errorMapping = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: CODE_MAP[cause.code], message: cause.message, cause });
  }
  return result;
});

/** Authentication, CSRF, then the policy table (auth/policy.ts) for this procedure and its input. */
const requireAuth = t.middleware(async ({ ctx, path, type, getRawInput, next }) => {
  if (!ctx.principal) throw new TRPCError({ code: "UNAUTHORIZED", message: "missing or invalid API key (send Authorization: Bearer <key>, or sign in)" });
  if (ctx.viaCookie && type === "mutation" && !ctx.sameOrigin)
    throw new TRPCError({ code: "FORBIDDEN", message: "cross-site request refused (Origin does not match this server)" });
  const raw = await getRawInput();
  const problem = inputProblem(raw);
  if (problem) throw new TRPCError({ code: "BAD_REQUEST", message: problem });
  await ctx.services.access.authorize(ctx.principal, PROCEDURE_POLICY[path], path, raw);
  // every tRPC rule admits user principals only: runner and job tokens speak the socket protocol
  return next({ ctx: { ...ctx, principal: ctx.principal as UserPrincipal } });
});

export const router = t.router;
export const publicProcedure = t.procedure.use(errorMapping);
/** Every procedure that reads or writes data: authenticated and authorized by the policy table. */
export const authedProcedure = publicProcedure.use(requireAuth);
export const createCallerFactory = t.createCallerFactory;
