import type { PrismaClient } from "@heron/db";
import type { Logger } from "pino";

import { type AlertMessage, alertPayload } from "./payloads";
import { type AlertFormat, redactUrl } from "./schemas";

/** attempts per delivery before it is marked failed */
export const MAX_ATTEMPTS = 5;
/** backoff after attempt n (1-based): 1 s, 4 s, 16 s, 64 s */
export const retryDelayMs = (attempt: number) => 1000 * 4 ** (attempt - 1);
const TIMEOUT_MS = 10_000;
const BATCH = 20;

/**
 * Sends due deliveries. Rows are the queue (any server process may send; claiming a row by
 * `pending → sending` makes each attempt happen once), so a restart loses nothing and a slow
 * webhook never holds a request: triggers only insert rows and `kick()`.
 */
export function createDeliveryQueue(prisma: PrismaClient, log: Logger | undefined) {
  let draining: Promise<void> | null = null;
  let again = false;

  async function attempt(id: string) {
    const d = await prisma.alertDelivery.findUnique({ where: { id }, include: { rule: true } });
    if (!d) return;
    const attempts = d.attempts + 1;
    const { ok, status, error } = await post(d.rule.webhookUrl, alertPayload(d.rule.format as AlertFormat, message(d)));
    const failed = !ok && attempts >= MAX_ATTEMPTS;
    await prisma.alertDelivery.update({
      where: { id },
      data: {
        attempts,
        lastStatus: status,
        lastError: ok ? null : error,
        status: ok ? "delivered" : failed ? "failed" : "pending",
        deliveredAt: ok ? new Date() : null,
        nextAttemptAt: new Date(Date.now() + retryDelayMs(attempts)),
      },
    });
    if (!ok) log?.warn({ deliveryId: id, webhook: redactUrl(d.rule.webhookUrl), attempts, status, error }, "alert webhook failed");
  }

  async function drainOnce() {
    const due = await prisma.alertDelivery.findMany({
      where: { status: "pending", nextAttemptAt: { lte: new Date() } },
      orderBy: { nextAttemptAt: "asc" },
      take: BATCH,
      select: { id: true },
    });
    for (const { id } of due) {
      // the claim time, so recoverStuck() only frees rows whose sender died, not slow ones
      const claimed = await prisma.alertDelivery.updateMany({ where: { id, status: "pending" }, data: { status: "sending", nextAttemptAt: new Date() } });
      if (claimed.count) await attempt(id).catch((err: unknown) => release(id, err));
    }
    return due.length === BATCH;
  }

  async function release(id: string, err: unknown) {
    log?.error({ err, deliveryId: id }, "alert delivery attempt failed");
    await prisma.alertDelivery.updateMany({ where: { id, status: "sending" }, data: { status: "pending" } }).catch(() => undefined);
  }

  return {
    /** sends what is due now; concurrent calls coalesce into one more pass */
    drain(): Promise<void> {
      if (draining) {
        again = true;
        return draining;
      }
      draining = (async () => {
        do {
          again = false;
          while (await drainOnce());
        } while (again);
      })().finally(() => {
        draining = null;
      });
      return draining;
    },
    /** after a process died mid-send: rows left `sending` for a minute are due again */
    async recoverStuck() {
      await prisma.alertDelivery.updateMany({
        where: { status: "sending", nextAttemptAt: { lt: new Date(Date.now() - 60_000) } },
        data: { status: "pending" },
      });
    },
  };
}
export type DeliveryQueue = ReturnType<typeof createDeliveryQueue>;

type DeliveryRow = { event: string; title: string; text: string; level: string; project: string; runId: string | null; url: string | null; createdAt: Date };

function message(d: DeliveryRow): AlertMessage {
  return {
    event: d.event,
    title: d.title,
    text: d.text,
    level: d.level as AlertMessage["level"],
    project: d.project,
    runId: d.runId,
    url: d.url,
    ts: d.createdAt.getTime(),
  };
}

async function post(url: string, body: unknown): Promise<{ ok: boolean; status: number | null; error: string | null }> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "heron-alerts" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: "error",
    });
    await res.arrayBuffer().catch(() => undefined);
    return { ok: res.ok, status: res.status, error: res.ok ? null : `HTTP ${res.status}` };
  } catch (err) {
    // the error names the cause (refused, timeout), never the URL
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, status: null, error: cause ?? (err as Error).name };
  }
}
