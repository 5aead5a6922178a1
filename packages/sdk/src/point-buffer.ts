import { PACKED_POINT_BYTES, type PackedPoints, packPoints } from "@heron/core";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The points logged since the last batch was cut, in growable typed-array columns. Why not an
 * array of [key, step, value, ts]: each such point is four heap objects that live for up to a
 * flush interval, i.e. through many of the training's young-generation collections, which copy
 * them each time; columns are a few flat buffers reused batch after batch, and `take()` turns
 * them into the wire form (packed-points.ts) with three block copies.
 */
export class PointBuffer {
  private ids = new Map<string, number>();
  private names: string[] = [];
  private keys = new Uint32Array(1024);
  private steps = new Float64Array(1024);
  private values = new Float64Array(1024);
  private times = new Float64Array(1024);
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(key: string, step: number, value: number, ts: number): void {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(key);
      this.ids.set(key, id);
    }
    if (this.n === this.keys.length) this.grow();
    const i = this.n++;
    this.keys[i] = id;
    this.steps[i] = step;
    this.values[i] = value;
    this.times[i] = ts;
  }

  /** removes the first `count` points (all by default) and returns them packed */
  take(count = this.n): PackedPoints {
    const n = Math.min(count, this.n);
    const out = LITTLE_ENDIAN
      ? this.packColumns(n)
      : packPoints(Array.from({ length: n }, (_, i) => [this.names[this.keys[i]!]!, this.steps[i]!, this.values[i]!, this.times[i]!] as const));
    if (n < this.n) for (const col of [this.keys, this.steps, this.values, this.times]) col.copyWithin(0, n, this.n);
    this.n -= n;
    return out;
  }

  /** the wire layout (packed-points.ts) by block copies of the columns — little-endian hosts */
  private packColumns(n: number): PackedPoints {
    const data = new Uint8Array(n * PACKED_POINT_BYTES);
    const cols = new Float64Array(data.buffer, 0, n * 3);
    cols.set(this.steps.subarray(0, n), 0);
    cols.set(this.values.subarray(0, n), n);
    cols.set(this.times.subarray(0, n), n * 2);
    // key ids of the whole run → indices into this batch's own key list
    const index = new Uint32Array(data.buffer, n * 24, n);
    const local = new Int32Array(this.names.length).fill(-1);
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = this.keys[i]!;
      let k = local[id]!;
      if (k < 0) {
        k = local[id] = keys.length;
        keys.push(this.names[id]!);
      }
      index[i] = k;
    }
    return { keys, data };
  }

  private grow() {
    const size = this.keys.length * 2;
    const bigger = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.keys = bigger(this.keys, (s) => new Uint32Array(s));
    this.steps = bigger(this.steps, (s) => new Float64Array(s));
    this.values = bigger(this.values, (s) => new Float64Array(s));
    this.times = bigger(this.times, (s) => new Float64Array(s));
  }
}
