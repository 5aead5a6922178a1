"use client";
import type { JsonValue } from "@heron/core";
import { useMemo } from "react";

import { flattenConfig } from "../lib/flatten";
import { inferAxis, ParallelCoords } from "./parallel-coords";
import type { RunRow } from "./run-columns";

/** at most this many config axes: the ones whose values differ most between the runs */
const MAX_AXES = 8;

/** a flattened config value back as JSON (numbers as numbers) for the axis scale */
const asJson = (v: string | undefined): JsonValue | undefined => (v === undefined ? undefined : v !== "" && Number.isFinite(Number(v)) ? Number(v) : v);

/**
 * The selected runs' config values → a chosen metric (its last value), on the parallel-coordinates
 * plot the sweep page uses too. Only config keys that differ between the runs get an axis.
 */
export function RunsParallelCoords({ runs, metric, goal }: { runs: RunRow[]; metric: string; goal: "maximize" | "minimize" }) {
  const { axes, lines } = useMemo(() => {
    const configs = runs.map((r) => flattenConfig(r.config));
    const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))];
    const distinct = (k: string) => new Set(configs.map((c) => c[k]).filter((v) => v !== undefined)).size;
    const varying = keys
      .filter((k) => distinct(k) > 1)
      .sort((a, b) => distinct(b) - distinct(a) || a.localeCompare(b))
      .slice(0, MAX_AXES)
      .sort();
    return {
      axes: varying.map((k) =>
        inferAxis(
          k,
          configs.map((c) => asJson(c[k])),
        ),
      ),
      lines: runs.map((r, i) => ({
        id: r.id,
        label: r.name,
        values: varying.map((k) => asJson(configs[i]![k])),
        metric: r.metrics[metric]?.last ?? null,
        status: r.status,
      })),
    };
  }, [runs, metric]);
  if (axes.length === 0) return <p className="muted">These runs share every config value: nothing to draw against {metric}.</p>;
  return (
    <ParallelCoords
      title={`Config → ${metric}`}
      axes={axes}
      lines={lines}
      metricName={metric}
      goal={goal}
      caption={`Each line is a run; colour by its last ${metric} (bluer is ${goal === "maximize" ? "higher" : "lower"}), grey = not logged. Hover a line for its run.`}
    />
  );
}
