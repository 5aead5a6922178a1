/**
 * Deterministic synthetic images for tests and smoke runs: each class has a random
 * prototype image; samples are the prototype plus seeded noise, so models learn quickly
 * yet not trivially. Same (seed, sizes, shape) → same bytes.
 */
import { Rng } from "../rng";
import type { Dataset, Split } from "./dataset";

export type SyntheticOptions = {
  trainSize?: number;
  testSize?: number;
  inputShape?: [number, number, number];
  numClasses?: number;
  seed?: number;
  /** 0..1, share of noise mixed into the prototype */
  noise?: number;
};

export function loadSynthetic(o: SyntheticOptions = {}): Dataset {
  const shape = o.inputShape ?? [28, 28, 1];
  const classes = o.numClasses ?? 10;
  const seed = o.seed ?? 0;
  const noise = o.noise ?? 0.5;
  const size = shape[0] * shape[1] * shape[2];
  const protoRng = Rng.derive(seed, "synthetic-prototypes");
  const protos = Array.from({ length: classes }, () => {
    const p = new Uint8Array(size);
    for (let i = 0; i < size; i++) p[i] = protoRng.next() < 0.3 ? 255 : 0;
    return p;
  });
  const make = (count: number, stream: string): Split => {
    const rng = Rng.derive(seed, "synthetic", stream);
    const images = new Uint8Array(count * size);
    const labels = new Uint8Array(count);
    for (let n = 0; n < count; n++) {
      const label = n % classes;
      labels[n] = label;
      const p = protos[label]!;
      for (let i = 0; i < size; i++) images[n * size + i] = Math.round((1 - noise) * p[i]! + noise * 255 * rng.next());
    }
    return { images, labels, count };
  };
  return {
    name: "synthetic",
    inputShape: shape,
    numClasses: classes,
    classNames: Array.from({ length: classes }, (_, i) => `class ${i}`),
    mean: new Array<number>(shape[2]).fill(0.5),
    std: new Array<number>(shape[2]).fill(0.5),
    train: make(o.trainSize ?? 512, "train"),
    test: make(o.testSize ?? 128, "test"),
    source: `synthetic (seed ${seed}, prototypes + ${noise} noise)`,
  };
}
