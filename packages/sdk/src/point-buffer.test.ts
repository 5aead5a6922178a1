import { unpackPoints } from "@heron/core";
import { describe, expect, it } from "vitest";

import { PointBuffer } from "./point-buffer";

const unpack = (p: Parameters<typeof unpackPoints>[0]) => {
  const r = unpackPoints(p);
  if ("error" in r) throw new Error(r.error);
  return r.points;
};

describe("PointBuffer", () => {
  it("grows past its first capacity and hands out batches in order, with only their own keys", () => {
    const b = new PointBuffer();
    for (let i = 0; i < 3000; i++) b.push(i < 2000 ? `k${i % 3}` : "late", i, i === 5 ? NaN : i / 2, 1000 + i);
    expect(b.length).toBe(3000);
    const first = b.take(2000);
    expect(first.keys).toEqual(["k0", "k1", "k2"]);
    const pts = unpack(first);
    expect(pts[5]!.value).toBeNaN();
    expect(pts[1999]).toEqual({ key: "k1", step: 1999, value: 999.5, ts: 2999 });
    expect(b.length).toBe(1000);
    const rest = b.take();
    expect(rest.keys).toEqual(["late"]);
    expect(unpack(rest)[0]).toEqual({ key: "late", step: 2000, value: 1000, ts: 3000 });
    expect(b.length).toBe(0);
    expect(unpack(b.take())).toEqual([]);
  });
});
