"use client";
import type { JsonValue, SweepParameter } from "@heron/core";
import { useMemo } from "react";

import { type Axis, categoryAxis, ParallelCoords, rangeAxis } from "./parallel-coords";
import { formatParam, type SweepDetail, sweptParams } from "./sweep-types";

/** a swept parameter's axis: log for log_uniform, the choices in spec order for categorical ones */
function paramAxis(path: string, p: SweepParameter): Axis {
  if ("values" in p) return categoryAxis(path, p.values, formatParam);
  if ("min" in p) return rangeAxis(path, p.min, p.max, p.distribution === "log_uniform", p.distribution === "log_uniform" ? "log" : "linear");
  return categoryAxis(path, [(p as { value: JsonValue }).value], formatParam);
}

/** The sweep's trials on the shared parallel-coordinates plot: swept parameters → the sweep's metric. */
export function SweepParallelCoords({ detail }: { detail: SweepDetail }) {
  const { axes, lines } = useMemo(() => {
    const params = sweptParams(detail);
    return {
      axes: params.map(({ path, p }) => paramAxis(path, p)),
      lines: detail.trials.map((t) => ({
        id: String(t.index),
        label: `trial ${t.index}`,
        values: params.map(({ path }) => t.params[path] as JsonValue | undefined),
        metric: t.metric,
        dashed: t.status === "pruned",
        status: t.status,
      })),
    };
  }, [detail]);
  return (
    <ParallelCoords
      title={`Parameters → ${detail.sweep.metric.name}`}
      axes={axes}
      lines={lines}
      metricName={detail.sweep.metric.name}
      goal={detail.sweep.metric.goal}
      caption="Each line is a trial; colour by metric (bluer is better), dashed = pruned, grey = no metric yet. Hover a line for its trial."
    />
  );
}
