import { rankKey, type RunLog } from "@heron/core";

/**
 * A batch of rank r > 0 as the run stores it. Ranks of one distributed job share a run; what
 * rank r logs is its own series `<key>@rank<r>` (points, texts, images, summary keys — the
 * SDK tags them already; this makes any client's batch obey the same rule). Rank 0 owns the
 * config, the captured environment and the run's final state: a rank's config and
 * environment are dropped and its end becomes a line in the run's log instead of finishing a
 * run that rank 0 may still be logging to.
 */
export function batchForRank(batch: RunLog, rank: number): RunLog {
  if (rank === 0) return batch;
  const tag = (key: string) => rankKey(key, rank);
  const { config: _config, environment: _environment, end, ...rest } = batch;
  const out: RunLog = {
    ...rest,
    points: batch.points.map((p) => ({ ...p, key: tag(p.key) })),
    ...(batch.texts ? { texts: batch.texts.map((t) => ({ ...t, key: tag(t.key) })) } : {}),
    ...(batch.images ? { images: batch.images.map((m) => ({ ...m, key: tag(m.key) })) } : {}),
    ...(batch.summary ? { summary: Object.fromEntries(Object.entries(batch.summary).map(([k, v]) => [tag(k), v])) } : {}),
  };
  if (end) {
    const line = `[heron] rank ${rank} ended: ${end.state}${end.error ? ` — ${end.error.slice(0, 2_000)}` : ""} (rank 0 decides how the run ends)`;
    out.logs = [...(batch.logs ?? []), { stream: "system", line, ts: Date.now() }];
  }
  return out;
}

/** rank of a writer: what its run:init said, else the SDK's writer id "<rank>-<random>" */
export function writerRank(writer: string, announced?: number): number {
  if (announced !== undefined) return announced;
  const m = /^(\d{1,6})-/.exec(writer);
  return m ? Number(m[1]) : 0;
}
