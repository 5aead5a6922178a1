import { describe, expect, it } from "vitest";

import { compileGlob, compileGlobs, globProblem, matchGlob } from "./glob";

const m = (pattern: string, name: string) => matchGlob(compileGlob(pattern), name);

describe("dotted globs", () => {
  it("* stays inside one segment, ** spans any number of segments", () => {
    expect(m("encoder.*", "encoder.weight")).toBe(true);
    expect(m("encoder.*", "encoder.block.weight")).toBe(false);
    expect(m("encoder.**", "encoder.block.3.weight")).toBe(true);
    expect(m("encoder.**", "decoder.block.3.weight")).toBe(false);
    expect(m("**.weight", "weight")).toBe(true);
    expect(m("a.**.b", "a.b")).toBe(true);
    expect(m("a.**.b", "a.x.y.b")).toBe(true);
    expect(m("a.**.**.b", "a.x.b")).toBe(true);
    expect(m("*_proj", "q_proj")).toBe(true);
    expect(m("q*p*j", "q_proj")).toBe(true);
    expect(m("q*p*jx", "q_proj")).toBe(false);
    expect(m("ab*ba", "aba")).toBe(false);
    expect(m("layers.?", "layers.0")).toBe(false); // only * is special
    expect(m("a+b", "a+b")).toBe(true);
  });

  it("suffix matching reaches dotted suffixes only", () => {
    const g = compileGlob("q_proj", { suffix: true });
    expect(matchGlob(g, "layers.0.attn.q_proj")).toBe(true);
    expect(matchGlob(g, "layers.0.attn.xq_proj")).toBe(false);
  });

  it("adversarial patterns run in linear-ish time", () => {
    const name = `${"a".repeat(150)}.${"a".repeat(150)}`;
    const t0 = performance.now();
    expect(m(`${"*a".repeat(60)}!`, name)).toBe(false);
    expect(m(`${"**.".repeat(60)}b`, name)).toBe(false);
    expect(m(`${"*".repeat(199)}!`, name)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it("refuses long, empty and dotted-gap patterns, and too many", () => {
    expect(globProblem("x".repeat(201))).toMatch(/longer than 200/);
    expect(globProblem("")).toMatch(/empty/);
    expect(globProblem("a..b")).toMatch(/empty segment/);
    expect(() => compileGlobs(Array.from({ length: 65 }, () => "a"))).toThrow(/at most 64/);
    expect(compileGlobs(["a.*", "b.**"])("b.c.d")).toBe(true);
  });
});
