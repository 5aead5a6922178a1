import { describe, expect, it } from "vitest";

import { PROTOCOL_VERSION, RunLogSchema } from "./events";
import { packPoints, unpackPoints } from "./packed-points";

const batch = (extra: object) => ({ v: PROTOCOL_VERSION, runId: "run1", seq: 1, writer: "0", ...extra });

describe("packed points (the SDK's wire form)", () => {
  it("round-trips keys, steps, timestamps and every double, NaN and ±Inf included", () => {
    const values = [0.1, -0, NaN, Infinity, -Infinity, Number.MAX_VALUE, 5e-324];
    const points = values.map((v, i) => [i % 2 ? "b" : "a/x", i * 3, v, 1_700_000_000_000 + i] as const);
    const r = unpackPoints(packPoints(points));
    expect("points" in r && r.points).toEqual(points.map(([key, step, value, ts]) => ({ key, step, value, ts })));
    // the WAL's string forms of earlier versions pack to the doubles they stand for
    const legacy = unpackPoints(
      packPoints([
        ["k", 1, "NaN", 1],
        ["k", 2, "-Infinity", 1],
      ]),
    );
    expect("points" in legacy && legacy.points.map((p) => p.value)).toEqual([NaN, -Infinity]);
  });

  it("RunLogSchema turns packed points into objects and refuses bad ones with a clear error", () => {
    const ok = RunLogSchema.safeParse(batch({ packed: packPoints([["loss", 7, 0.5, 10]]) }));
    expect(ok.success && ok.data.points).toEqual([{ key: "loss", step: 7, value: 0.5, ts: 10 }]);
    expect(RunLogSchema.parse(batch({})).points).toEqual([]);

    const bad = (packed: unknown) => {
      const r = RunLogSchema.safeParse(batch({ packed }));
      return r.success ? "accepted" : r.error.issues.map((i) => i.message).join("; ");
    };
    const good = packPoints([
      ["loss", 1, 1, 1],
      ["acc", 2, 1, 1],
    ]);
    expect(bad({ ...good, data: good.data.subarray(1) })).toMatch(/28 bytes per point/);
    expect(bad({ ...good, keys: ["loss"] })).toMatch(/key index 1 is not in keys/);
    expect(bad(packPoints([["loss", -1, 1, 1]]))).toMatch(/step must be an integer/);
    expect(bad(packPoints([["loss", 1.5, 1, 1]]))).toMatch(/step must be an integer/);
    expect(bad(packPoints([["loss", 1, 1, NaN]]))).toMatch(/ts must be a finite number/);
    expect(bad({ ...good, data: "not binary" })).toMatch(/must be binary/);
    expect(bad({ ...good, keys: [""] })).toMatch(/must not be empty/);
    const both = RunLogSchema.safeParse(batch({ packed: good, points: [] }));
    expect(both.success).toBe(false);
  });
});
