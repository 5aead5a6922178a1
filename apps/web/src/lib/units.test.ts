import { describe, expect, it } from "vitest";

import { formatEta, formatProgress, parseProgressLine, specModelDataset } from "./job-progress";
import { formatTickWithUnit, formatWithUnit, unitOfKey } from "./units";

describe("units by metric key", () => {
  it("formats percentages and bytes instead of raw numbers", () => {
    expect(unitOfKey("sys/h/mem_pct")).toBe("percent");
    expect(formatWithUnit("sys/h/mem_pct", 11)).toBe("11%");
    expect(formatWithUnit("sys/h/proc_rss_bytes", 2.6e9)).toBe("2.4 GiB");
    expect(formatTickWithUnit("sys/h/mem_used_bytes", 2.6e9)).toBe("2.4 GiB");
    expect(formatWithUnit("sys/h/net_rx_bytes_s", 2048)).toBe("2.0 KiB/s");
    expect(formatWithUnit("train/loss", 0.5)).toBe("0.5");
  });
});

describe("job progress lines", () => {
  it("parses the runner's [progress] line and formats it", () => {
    const p = parseProgressLine("[progress] epoch 2/3 step 450/600 812 samples/s ETA 75s")!;
    expect(p).toEqual({ epoch: 2, epochs: 3, step: 450, totalSteps: 600, samplesPerSec: 812, etaSec: 75 });
    expect(formatProgress(p)).toBe("step 450/600 · epoch 2/3 · 75% · ETA 1m 15s");
    expect(parseProgressLine("loss 0.3")).toBeNull();
    expect(formatEta(7300)).toBe("2h 1m");
  });
  it("names a spec's model and dataset", () => {
    expect(specModelDataset({ kind: "train", model: "mlp-mnist", dataset: "mnist" })).toEqual({ model: "mlp-mnist", dataset: "mnist" });
    expect(specModelDataset({ kind: "command", command: ["python"] })).toEqual({ model: null, dataset: null });
  });
});
