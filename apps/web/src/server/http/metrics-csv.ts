import type http from "node:http";

import { AppError } from "@heron/core";
import type { Logger } from "pino";

import { ROUTE_POLICY } from "../auth/policy";
import type { Principal } from "../auth/principal";
import type { Services } from "../services";
import { metricCsvRow } from "./csv";
import { sendError } from "./json-body";

/** GET /api/runs/:id/metrics.csv — every point at full resolution, streamed in (key, step) order. */
export async function streamMetricsCsv(res: http.ServerResponse, runId: string, principal: Principal | null, services: Services, log: Logger) {
  try {
    // keys travel only in the Authorization header (or the session cookie): a key in a URL
    // ends up in proxy logs, browser history and Referer headers
    if (!principal) {
      res.writeHead(401, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: "missing or invalid API key (send Authorization: Bearer <key>, or sign in)" }));
    }
    await services.access.authorize(principal, ROUTE_POLICY.metricsCsv, "metrics.csv", { runId });
    const run = await services.prisma.run.findUnique({ where: { id: runId } });
    if (!run) {
      res.writeHead(404, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: `run "${runId}" not found` }));
    }
    res.writeHead(200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${run.name.replace(/[^A-Za-z0-9._-]/g, "_")}-metrics.csv"`,
    });
    res.write("key,step,value,timestamp\n");
    for await (const batch of services.metrics.scan(runId)) {
      const chunk = batch.map(metricCsvRow).join("\n") + "\n";
      if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
    }
    res.end();
  } catch (err) {
    if (!(err instanceof AppError)) log.error({ err }, "csv export failed");
    sendError(res, err);
  }
}
