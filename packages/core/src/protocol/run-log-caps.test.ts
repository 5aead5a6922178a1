import { describe, expect, it } from "vitest";

import { PROTOCOL_VERSION, RunLogSchema } from "./events";

const base = { v: PROTOCOL_VERSION, runId: "run1", seq: 1, writer: "0" };
const image = (bytes: number) => ({ key: "img", step: 1, width: 1, height: 1, png: new Uint8Array(bytes), ts: 1 });
const text = (rows: number, chars: number) => ({ key: "t", step: 1, rows: Array.from({ length: rows }, () => ({ text: "x".repeat(chars) })), ts: 1 });
const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) => (r.error?.issues ?? []).map((i) => i.message).join("; ");

describe("RunLogSchema caps what one batch may hold", () => {
  it("refuses more image bytes per batch than the cap, naming it", () => {
    const r = RunLogSchema.safeParse({ ...base, images: [image(8 * 2 ** 20), image(8 * 2 ** 20), image(8 * 2 ** 20)] });
    expect(r.success).toBe(false);
    expect(messages(r)).toMatch(/images of one batch may hold at most 16777216 bytes/);
    expect(RunLogSchema.safeParse({ ...base, images: [image(1024)] }).success).toBe(true);
  });

  it("refuses more text than the cap per batch (characters and rows)", () => {
    expect(messages(RunLogSchema.safeParse({ ...base, texts: [text(1000, 5000)] }))).toMatch(/texts of one batch may hold at most 4194304 characters/);
    expect(messages(RunLogSchema.safeParse({ ...base, texts: Array.from({ length: 20 }, () => text(1000, 1)) }))).toMatch(/at most 10000 rows/);
    expect(RunLogSchema.safeParse({ ...base, texts: [text(10, 100)] }).success).toBe(true);
  });
});
