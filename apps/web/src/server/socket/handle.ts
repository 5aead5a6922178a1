import { type Ack, AppError, formatIssues } from "@heron/core";
import type { Logger } from "pino";
import type { z } from "zod";

/**
 * Wraps a socket.io handler: validates the payload with its zod schema, runs it, and acks
 * `{ok:true,…}` or `{ok:false,error}`. Unexpected errors are logged and answered with a
 * generic message: internals never reach clients.
 */
export function handle<S extends z.ZodType, R extends object>(log: Logger, event: string, schema: S, fn: (input: z.infer<S>) => Promise<R> | R) {
  return async (payload: unknown, ...rest: unknown[]) => {
    // socket.io hands the ack over as the last argument: a client that sends extra arguments
    // still gets its answer instead of waiting forever
    const ack = rest.at(-1);
    const reply = typeof ack === "function" ? (ack as (a: Ack<R>) => void) : () => undefined;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) return reply({ ok: false, error: `invalid ${event} payload: ${formatIssues(parsed.error.issues)}` });
    try {
      const result = await fn(parsed.data);
      reply({ ok: true, ...result } as Ack<R>);
    } catch (err) {
      if (err instanceof AppError) return reply({ ok: false, error: err.message });
      log.error({ err, event }, "socket handler failed");
      reply({ ok: false, error: "internal server error" });
    }
  };
}
