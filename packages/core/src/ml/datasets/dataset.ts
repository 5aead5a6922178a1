/**
 * In-memory image datasets: pixels stay uint8 (MNIST 47 MB, CIFAR-10 150 MB) and are
 * normalised per batch into one reusable Float32Array — never nested JS arrays.
 * Layout is NHWC (tfjs); CIFAR's channel-major records are transposed once at load.
 */
export type Split = {
  /** count × H × W × C bytes, 0..255 */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
};

export type Dataset = {
  name: string;
  inputShape: [number, number, number];
  numClasses: number;
  classNames: string[];
  /** per-channel normalisation applied to pixel/255 (the usual MNIST and ImageNet statistics) */
  mean: number[];
  std: number[];
  train: Split;
  test: Split;
  /** where the data came from and how it was split (shown in run environment) */
  source: string;
  /** data-quality notes found while loading (e.g. skipped samples); re-emitted on every load */
  warnings?: string[];
};

export function limitSplit(s: Split, max: number | undefined): Split {
  if (max === undefined || max >= s.count) return s;
  const per = s.images.length / s.count;
  return { images: s.images.subarray(0, max * per), labels: s.labels.subarray(0, max), count: max };
}

/** A reusable batch buffer with a per-channel lookup table (pixel → normalised float). */
export class Batcher {
  readonly sampleSize: number;
  private readonly lut: Float32Array;
  private readonly channels: number;
  readonly x: Float32Array;
  readonly y: Int32Array;

  constructor(
    readonly ds: Dataset,
    readonly maxBatch: number,
  ) {
    const [h, w, c] = ds.inputShape;
    this.channels = c;
    this.sampleSize = h * w * c;
    this.lut = new Float32Array(256 * c);
    for (let ch = 0; ch < c; ch++) for (let v = 0; v < 256; v++) this.lut[ch * 256 + v] = (v / 255 - ds.mean[ch]!) / ds.std[ch]!;
    this.x = new Float32Array(maxBatch * this.sampleSize);
    this.y = new Int32Array(maxBatch);
  }

  /** fills x/y with samples order[start..start+count) of `split`; returns views of that size */
  fill(split: Split, order: ArrayLike<number> | null, start: number, count: number): { x: Float32Array; y: Int32Array } {
    if (count > this.maxBatch) throw new Error(`batch of ${count} exceeds buffer of ${this.maxBatch}`);
    const S = this.sampleSize;
    const C = this.channels;
    const { lut, x, y } = this;
    for (let i = 0; i < count; i++) {
      const idx = order ? order[start + i]! : start + i;
      const src = idx * S;
      const dst = i * S;
      if (C === 1) for (let k = 0; k < S; k++) x[dst + k] = lut[split.images[src + k]!]!;
      else for (let k = 0; k < S; k++) x[dst + k] = lut[(k % C) * 256 + split.images[src + k]!]!;
      y[i] = split.labels[idx]!;
    }
    return { x: x.subarray(0, count * S), y: y.subarray(0, count) };
  }
}
