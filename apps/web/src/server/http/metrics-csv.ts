import type http from "node:http";
import type { Logger } from "pino";
import type { Services } from "../services";

/** GET /api/runs/:id/metrics.csv — every point at full resolution, streamed in (key, step) order. */
export async function streamMetricsCsv(req: http.IncomingMessage, res: http.ServerResponse, runId: string, services: Services, log: Logger) {
  try {
    const header = req.headers.authorization;
    const url = new URL(req.url ?? "/", "http://x");
    // browsers can't set headers on a download link, so ?key= is accepted too
    const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : (url.searchParams.get("key") ?? undefined);
    if (!(await services.auth.authenticate(token))) {
      res.writeHead(401, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: "missing or invalid API key" }));
    }
    const run = await services.prisma.run.findUnique({ where: { id: runId } });
    if (!run) {
      res.writeHead(404, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: `run "${runId}" not found` }));
    }
    res.writeHead(200, { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${run.name.replace(/[^A-Za-z0-9._-]/g, "_")}-metrics.csv"` });
    res.write("key,step,value,timestamp\n");
    for await (const batch of services.metrics.scan(runId)) {
      const chunk = batch.map((p) => `${JSON.stringify(p.key)},${p.step},${p.value},${new Date(p.ts).toISOString()}`).join("\n") + "\n";
      if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
    }
    res.end();
  } catch (err) {
    log.error({ err }, "csv export failed");
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
    res.end(res.headersSent ? "" : JSON.stringify({ error: "internal server error" }));
  }
}
