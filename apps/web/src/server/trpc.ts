import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { AppError, formatIssues } from "@heron/core";
import type { Principal } from "./services/auth";
import type { Services } from "./services";

export type Context = { services: Services; principal: Principal | null };

const CODE_MAP = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
} as const;

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    // 4xx messages say exactly what was wrong; 5xx never leak internals (no stack, no SQL).
    const zod = error.cause instanceof ZodError ? error.cause : null;
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      message: zod ? formatIssues(zod.issues) : internal ? "internal server error" : shape.message,
      data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path, issues: zod ? zod.issues.map((i) => ({ path: i.path.map(String), message: i.message })) : undefined },
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

const requireAuth = t.middleware(({ ctx, next }) => {
  // runner and job tokens only speak the socket protocol; the API needs an API key
  if (!ctx.principal || (ctx.principal.kind !== "api" && ctx.principal.kind !== "local")) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "missing or invalid API key (send Authorization: Bearer <key>)" });
  }
  return next({ ctx: { ...ctx, principal: ctx.principal } });
});

export const router = t.router;
export const publicProcedure = t.procedure.use(errorMapping);
/** Every procedure that reads or writes data: a valid key is required. */
export const authedProcedure = publicProcedure.use(requireAuth);
export const createCallerFactory = t.createCallerFactory;
