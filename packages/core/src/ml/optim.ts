/**
 * SGD (momentum) and Adam with PyTorch's exact update rules, written over tf ops so that
 * (a) the optimizer state is a plain name → tensor map we can checkpoint and restore
 * bit-for-bit, and (b) the learning rate can change every step (schedules) without
 * rebuilding anything. torch.optim.Adam: m̂/(√v̂ + ε) with ε outside the sqrt, bias
 * correction by step count; SGD momentum: buf = μ·buf + g, w -= lr·buf.
 */
import * as tf from "@tensorflow/tfjs";

export type OptimizerConfig =
  { name: "sgd"; momentum: number; weightDecay: number } | { name: "adam"; beta1: number; beta2: number; eps: number; weightDecay: number };

export class Optimizer {
  /** optimizer steps taken (Adam's bias correction uses it) */
  step = 0;
  /** slot tensors: `${param}/m`, `${param}/v` (Adam) or `${param}/momentum` (SGD) */
  readonly slots = new Map<string, tf.Variable>();

  constructor(
    readonly config: OptimizerConfig,
    private readonly params: Map<string, tf.Variable>,
  ) {}

  /** allocates the state up front so memory is at its steady state from the first step */
  init(): this {
    for (const [name, p] of this.params) {
      if (this.config.name === "adam") {
        this.slot(`${name}/m`, p);
        this.slot(`${name}/v`, p);
      } else if (this.config.momentum > 0) this.slot(`${name}/momentum`, p);
    }
    return this;
  }

  /** number of float32 values of state per parameter value (planner) */
  static slotsPerParam(c: OptimizerConfig): number {
    return c.name === "adam" ? 2 : c.momentum > 0 ? 1 : 0;
  }

  private slot(name: string, like: tf.Variable): tf.Variable {
    let s = this.slots.get(name);
    if (!s) {
      // tidy: tf.variable shares the initial tensor's buffer; the tensor itself must go
      s = tf.tidy(() => tf.variable(tf.zerosLike(like), false));
      this.slots.set(name, s);
    }
    return s;
  }

  /** applies one update; `grads` are consumed (disposed) */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    this.step++;
    const c = this.config;
    const t = this.step;
    // Temporaries are disposed as soon as they are used (not at the end of a tidy): the
    // update's peak is then ~3 extra copies of the largest parameter, not ~12 (planner).
    const op = (a: tf.Tensor, f: (a: tf.Tensor) => tf.Tensor, keep = false) => {
      const r = f(a);
      if (!keep) a.dispose();
      return r;
    };
    for (const [name, p] of this.params) {
      let g = grads.get(name);
      if (!g) continue;
      grads.delete(name);
      if (c.weightDecay > 0) g = op(g, (x) => tf.tidy(() => tf.add(x, tf.mul(p, c.weightDecay))));
      if (c.name === "adam") {
        const m = this.slot(`${name}/m`, p);
        const v = this.slot(`${name}/v`, p);
        const m1 = tf.tidy(() => tf.add(tf.mul(m, c.beta1), tf.mul(g, 1 - c.beta1)));
        m.assign(m1);
        m1.dispose();
        const v1 = op(g, (x) => tf.tidy(() => tf.add(tf.mul(v, c.beta2), tf.mul(tf.square(x), 1 - c.beta2))));
        v.assign(v1);
        v1.dispose();
        const bc1 = 1 - Math.pow(c.beta1, t);
        const bc2 = Math.sqrt(1 - Math.pow(c.beta2, t));
        // p -= (lr / bc1) · m / (√v / bc2 + ε)
        let u: tf.Tensor = tf.sqrt(v);
        u = op(u, (x) => tf.div(x, bc2));
        u = op(u, (x) => tf.add(x, c.eps));
        u = op(u, (x) => tf.div(m, x));
        u = op(u, (x) => tf.mul(x, lr / bc1));
        u = op(u, (x) => tf.sub(p, x));
        p.assign(u);
        u.dispose();
      } else if (c.momentum > 0) {
        const buf = this.slot(`${name}/momentum`, p);
        // torch: first step buf = g; later buf = μ·buf + g (dampening 0)
        const b1 = t === 1 ? g : op(g, (x) => tf.tidy(() => tf.add(tf.mul(buf, c.momentum), x)));
        buf.assign(b1);
        const u = tf.tidy(() => tf.sub(p, tf.mul(b1, lr)));
        b1.dispose();
        p.assign(u);
        u.dispose();
      } else {
        const u = op(g, (x) => tf.tidy(() => tf.sub(p, tf.mul(x, lr))));
        p.assign(u);
        u.dispose();
      }
    }
    for (const g of grads.values()) g.dispose();
    grads.clear();
  }

  /** copies of the state for checkpoints */
  getState(): { step: number; slots: Record<string, Float32Array> } {
    const slots: Record<string, Float32Array> = {};
    for (const [n, v] of this.slots) slots[n] = v.dataSync() as Float32Array;
    return { step: this.step, slots };
  }

  setState(s: { step: number; slots: Record<string, Float32Array> }): void {
    this.step = s.step;
    for (const [n, arr] of Object.entries(s.slots)) {
      const pname = n.slice(0, n.lastIndexOf("/"));
      const p = this.params.get(pname);
      if (!p) throw new Error(`checkpoint holds optimizer state for unknown parameter ${pname}`);
      if (p.size !== arr.length) throw new Error(`checkpoint optimizer state ${n} has ${arr.length} values, expected ${p.size}`);
      const sl = this.slot(n, p);
      tf.tidy(() => sl.assign(tf.tensor(arr, p.shape, "float32")));
    }
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}
