import { AppError, decodeValue, type LivePointsEvent, type RunLog } from "@heron/core";
import type { MetricsStore, PrismaClient } from "@heron/db";

export type Fanout = (runId: string, event: LivePointsEvent) => void;

/**
 * Ingestion of SDK batches: write durably (one transaction), then ack the highest contiguous
 * sequence number per (run, writer), then fan out to dashboards. Points are idempotent by
 * (run, key, step), so a replayed batch is harmless; sequence numbers only decide what the
 * SDK may trim from its write-ahead log.
 */
export function createIngestService(prisma: PrismaClient, metrics: MetricsStore, fanout: Fanout) {
  // seqs received ahead of a gap, per "runId/writer"; small and bounded by the SDK's send window
  const ahead = new Map<string, Set<number>>();

  async function contiguous(runId: string, writer: string): Promise<number> {
    const row = await prisma.runWriter.findUnique({ where: { runId_writer: { runId, writer } } });
    return row?.lastSeq ?? 0;
  }

  return {
    async ingest(batch: RunLog): Promise<{ ackSeq: number; written: number }> {
      const run = await prisma.run.findUnique({ where: { id: batch.runId }, select: { id: true } });
      if (!run) throw new AppError("NOT_FOUND", `run "${batch.runId}" not found`);
      const lastSeq = await contiguous(batch.runId, batch.writer);
      if (batch.seq <= lastSeq) return { ackSeq: lastSeq, written: 0 };
      const points = batch.points.map((p) => ({ key: p.key, step: p.step, value: decodeValue(p.value), ts: p.ts }));
      const { inserted } = await metrics.write(batch.runId, points);
      const k = `${batch.runId}/${batch.writer}`;
      const pending = ahead.get(k) ?? new Set<number>();
      pending.add(batch.seq);
      let next = lastSeq;
      while (pending.has(next + 1)) pending.delete(++next);
      if (pending.size) ahead.set(k, pending);
      else ahead.delete(k);
      if (next !== lastSeq) {
        await prisma.runWriter.upsert({ where: { runId_writer: { runId: batch.runId, writer: batch.writer } }, create: { runId: batch.runId, writer: batch.writer, lastSeq: next }, update: { lastSeq: next } });
      }
      await prisma.run.updateMany({ where: { id: batch.runId, status: { in: ["running", "stale"] } }, data: { heartbeatAt: new Date(), status: "running" } });
      fanout(batch.runId, { runId: batch.runId, points: points.map((p) => ({ ...p, value: Number.isFinite(p.value) ? p.value : null })) });
      return { ackSeq: next, written: inserted };
    },
    lastSeq: contiguous,
  };
}
export type IngestService = ReturnType<typeof createIngestService>;
