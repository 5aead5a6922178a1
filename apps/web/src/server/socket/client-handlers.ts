import { type DashboardToServer, RunConfigUpdateSchema, RunFinishSchema, RunInitSchema, RunLogSchema, type SdkToServer, SubscribeSchema } from "@heron/core";
import type { Logger } from "pino";

import type { Services } from "../services";
import type { Principal } from "../services/auth";
import { createIngestSession } from "../services/ingest";
import { notice, registerRoutes, route, type RouteTable } from "./handle";
import { socketSource } from "./ingest-source";
import type { HeronSocket } from "./types";

/**
 * Events from tracking SDKs (users' scripts and jobs) and dashboards. Who may send which
 * event about which run is decided before these handlers run (authorize-events.ts, from the
 * policy table): a job token reaches only its own run.
 */
export function registerClientHandlers(socket: HeronSocket, p: Principal, services: Services, log: Logger) {
  const { ingest } = services;
  const session = createIngestSession(p, socketSource(socket.conn));
  const sdk: RouteTable<SdkToServer> = {
    "run:init": route(RunInitSchema, (input) => ingest.initRun(session, input)),
    "run:log": route(RunLogSchema, (input) => ingest.ingestBatch(session, input)),
    "run:finish": route(RunFinishSchema, async (input) => {
      await ingest.finishRun(input);
      return {};
    }),
    "run:config": route(RunConfigUpdateSchema, async (input) => {
      await services.runs.updateConfig(input.runId, input.config);
      return {};
    }),
    "run:heartbeat": route(SubscribeSchema, async (input) => {
      await ingest.heartbeat(input.runId);
      return {};
    }),
  };
  const dashboard: RouteTable<DashboardToServer> = {
    subscribe: route(SubscribeSchema, async (input) => {
      await services.runs.get(input.runId);
      await socket.join(`run:${input.runId}`);
      return {};
    }),
    unsubscribe: notice(SubscribeSchema, (input) => socket.leave(`run:${input.runId}`)),
  };
  registerRoutes(socket, log, sdk);
  registerRoutes(socket, log, dashboard);
}
