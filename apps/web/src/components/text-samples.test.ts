import { describe, expect, it } from "vitest";

import { sampleColumns, sampleImage } from "./text-samples";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==";

describe("text-sample rows on the run page", () => {
  it("splits seed 002's [Q]/[LLM]/[GT] text and the VLM's question + answer/truth caption into columns", () => {
    expect(sampleColumns({ text: "[Q] which river?\n[LLM] the red\nriver.\n[GT] the red river.", caption: "the red" })).toEqual({
      image: null,
      question: "which river?",
      answer: "the red\nriver.",
      truth: "the red river.",
    });
    const vlm = sampleColumns({ text: "what is this?", caption: "answer: a bag | truth: a sneaker", image: { width: 1, height: 1, png: PNG } });
    expect(vlm).toMatchObject({ question: "what is this?", answer: "a bag", truth: "a sneaker" });
    expect(vlm!.image).toEqual({ src: `data:image/png;base64,${PNG}`, width: 1, height: 1 });
    expect(sampleColumns({ text: "2 + 2 = 4", caption: "q1" })).toBeNull();
    expect(sampleColumns("just text")).toBeNull();
  });

  it("shows an image only as a data:image/png URL of a base64 PNG", () => {
    expect(sampleImage({ width: 1, height: 1, png: PNG })?.src).toBe(`data:image/png;base64,${PNG}`);
    for (const bad of [
      { width: 1, height: 1, png: "javascript:alert(1)" },
      { width: 1, height: 1, png: `${PNG}"><script>alert(1)</script>` },
      { width: 1, height: 1, png: "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" }, // <svg onload=alert(1)> in base64
      { width: 1, height: 1, png: `iVBORw0KGgo${"A".repeat(300_000)}` },
      { width: 0, height: 1, png: PNG },
      { width: 1.5, height: 1, png: PNG },
      { png: PNG },
      "data:image/png;base64,iVBORw0KGgo",
      null,
    ])
      expect(sampleImage(bad), JSON.stringify(bad).slice(0, 60)).toBeNull();
  });
});
