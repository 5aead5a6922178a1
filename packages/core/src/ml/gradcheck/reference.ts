/**
 * Float64 plain-JS references of every custom loss and layer, written straight from the
 * PyTorch formulas in seeds 002/003 — deliberately naive (loops, no tfjs) so they share no
 * code, and no bug, with the implementations they check. Layouts match ours: row-major,
 * NHWC for feature maps, [in, out] for weights.
 */
type A = ArrayLike<number>;

function logSoftmaxRow(x: A, off: number, n: number, scale = 1): number[] {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, x[off + i]! / scale);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[off + i]! / scale - m);
  const lse = m + Math.log(s);
  return Array.from({ length: n }, (_, i) => x[off + i]! / scale - lse);
}

export function refCrossEntropy(logits: A, labels: A, n: number, c: number): number {
  let s = 0;
  for (let r = 0; r < n; r++) s -= logSoftmaxRow(logits, r * c, c)[labels[r]!]!;
  return s / n;
}

export function refKdSoft(student: A, teacher: A, n: number, c: number, T: number): number {
  let s = 0;
  for (let r = 0; r < n; r++) {
    const lt = logSoftmaxRow(teacher, r * c, c, T);
    const ls = logSoftmaxRow(student, r * c, c, T);
    for (let i = 0; i < c; i++) s += Math.exp(lt[i]!) * (lt[i]! - ls[i]!);
  }
  return (s / n) * T * T;
}

export function refCosineEmbedding(a: A, b: A, n: number, d: number): number {
  let s = 0;
  for (let r = 0; r < n; r++) {
    let dot = 0,
      na = 0,
      nb = 0;
    for (let i = 0; i < d; i++) {
      const x = a[r * d + i]!,
        y = b[r * d + i]!;
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    s += 1 - dot / Math.sqrt((na + 1e-12) * (nb + 1e-12));
  }
  return s / n;
}

export function refAvgPool1d(x: A, n: number, d: number, k: number): Float64Array {
  const out = new Float64Array((n * d) / k);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < d / k; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += x[r * d + j * k + t]!;
      out[(r * d) / k + j] = s / k;
    }
  return out;
}

/** conv 3×3, stride 1, zero padding 1, NHWC input, [3,3,cin,cout] weights */
export function refConv3x3(x: A, w: A, b: A, n: number, h: number, wd: number, cin: number, cout: number): Float64Array {
  const out = new Float64Array(n * h * wd * cout);
  for (let q = 0; q < n; q++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < wd; xx++)
        for (let o = 0; o < cout; o++) {
          let s = b[o]!;
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - 1,
                ix = xx + kx - 1;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              for (let c = 0; c < cin; c++) s += x[((q * h + iy) * wd + ix) * cin + c]! * w[((ky * 3 + kx) * cin + c) * cout + o]!;
            }
          out[((q * h + y) * wd + xx) * cout + o] = s;
        }
  return out;
}

export function refMse(a: A, b: A): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / a.length;
}

/** x[n,in] · W[in,out] + bias + scale · (x · A[in,r]) · B[r,out] */
export function refLoraDense(x: A, W: A, bias: A, Am: A, Bm: A, n: number, inF: number, outF: number, r: number, scale: number): Float64Array {
  const out = new Float64Array(n * outF);
  for (let q = 0; q < n; q++) {
    const xa = new Float64Array(r);
    for (let k = 0; k < r; k++) for (let i = 0; i < inF; i++) xa[k]! += x[q * inF + i]! * Am[i * r + k]!;
    for (let o = 0; o < outF; o++) {
      let s = bias[o]!;
      for (let i = 0; i < inF; i++) s += x[q * inF + i]! * W[i * outF + o]!;
      for (let k = 0; k < r; k++) s += scale * xa[k]! * Bm[k * outF + o]!;
      out[q * outF + o] = s;
    }
  }
  return out;
}

/** causal-LM CE with the −100 mask: logits[b,t] predict labels[b,t+1] */
export function refMaskedLm(logits: A, labels: A, b: number, l: number, v: number): number {
  let s = 0,
    count = 0;
  for (let q = 0; q < b; q++)
    for (let t = 0; t < l - 1; t++) {
      const y = labels[q * l + t + 1]!;
      if (y === -100) continue;
      s -= logSoftmaxRow(logits, (q * l + t) * v, v)[y]!;
      count++;
    }
  return s / Math.max(1, count);
}

/** Σ w_i · y_i with fixed weights: turns a layer's output into a scalar for grad checks */
export function refWeightedSum(y: A, w: A): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
  return s;
}
