import { type AcceptedOf, type Ack, type AnyPeerToServer, AppError, formatIssues, type PayloadOf } from "@heron/core";
import type { Logger } from "pino";
import type { z } from "zod";

import type { HeronSocket } from "./types";

/** what socket.io calls with an event's raw arguments (the ack, when asked for, comes last) */
type Listener = (payload: unknown, ...rest: unknown[]) => Promise<void>;

/**
 * Wraps a socket.io handler: validates the payload with its zod schema, runs it, and acks
 * `{ok:true,…}` or `{ok:false,error}`. Unexpected errors are logged and answered with a
 * generic message: internals never reach clients.
 */
export function handle<S extends z.ZodType, R extends object>(log: Logger, event: string, schema: S, fn: (input: z.output<S>) => Promise<R> | R): Listener {
  return async (payload, ...rest) => {
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

/**
 * One row of an event table: the payload's schema and the handler. `schema` and `run` are
 * there for the type check against the peer's event map (the schema accepts exactly the
 * map's payload, the handler returns the map's answer); `listen` is what gets registered.
 */
export type Route<P, R> = {
  schema: z.ZodType<unknown, P>;
  run: (input: never) => Promise<R> | R;
  listen: (log: Logger, event: string) => Listener;
};

/** every event of a peer's map, each with its route: an event without a handler fails to compile */
export type RouteTable<M> = { [E in keyof M & string]: Route<PayloadOf<M, E>, AcceptedOf<M, E>> };

export function route<O, I, R extends object>(schema: z.ZodType<O, I>, run: (input: O) => Promise<R> | R): Route<I, R> {
  return { schema, run, listen: (log, event) => handle(log, event, schema, run) };
}

/** a route for an event the sender expects no answer to: an ack function it passes anyway is not called */
export function notice<O, I>(schema: z.ZodType<O, I>, run: (input: O) => Promise<void> | void): Route<I, object> {
  const answered = route(schema, async (input) => {
    await run(input);
    return {};
  });
  return { ...answered, listen: (log, event) => (payload) => answered.listen(log, event)(payload) };
}

/** Registers a peer's table on a socket: every payload is validated before its handler runs. */
export function registerRoutes<M>(socket: HeronSocket, log: Logger, table: RouteTable<M>) {
  const rows: [string, Route<unknown, unknown>][] = Object.entries(table);
  for (const [event, row] of rows) socket.on(event as keyof AnyPeerToServer, row.listen(log, event));
}
