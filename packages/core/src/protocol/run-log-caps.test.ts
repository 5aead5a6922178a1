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

  it("lets a text sample carry a small PNG, refuses anything else or more, and counts it towards the text cap", () => {
    const png = (chars: number) => "iVBORw0KGgo" + "A".repeat(chars - 11);
    const row = (image: unknown) => ({ ...base, texts: [{ key: "t", step: 1, rows: [{ text: "q", caption: "a", image }], ts: 1 }] });
    const ok = RunLogSchema.safeParse(row({ width: 28, height: 28, png: png(2000) }));
    expect(ok.success).toBe(true);
    expect(ok.data!.texts![0]!.rows[0]!.image).toEqual({ width: 28, height: 28, png: png(2000) }); // kept, not stripped
    expect(messages(RunLogSchema.safeParse(row({ width: 28, height: 28, png: "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" })))).toMatch(/base64-encoded PNG/);
    expect(messages(RunLogSchema.safeParse(row({ width: 28, height: 28, png: png(300_000) })))).toMatch(/at most 262144 base64 characters/);
    expect(RunLogSchema.safeParse(row({ width: 28, height: 28, png: png(100), onload: "x" })).success).toBe(false);
    const many = Array.from({ length: 20 }, () => ({ text: "q", image: { width: 64, height: 64, png: png(250_000) } }));
    expect(messages(RunLogSchema.safeParse({ ...base, texts: [{ key: "t", step: 1, rows: many, ts: 1 }] }))).toMatch(/at most 4194304 characters/);
  });
});
