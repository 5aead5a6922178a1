/**
 * The mini VLM's language model: a small decoder-only transformer over a word vocabulary
 * (GPT-2 layout, pre-LayerNorm), taking input *embeddings* so image tokens can stand in for
 * placeholder positions:
 *   x (+ pos_emb) → N × [x + attn(LN(x)); x + mlp(LN(x))] → ln_f → head
 * Parameters, all under `lm.`: tok_emb [V, d], pos_emb [context, d],
 * layers.<i>.{ln1,ln2}.{weight,bias}, layers.<i>.attn.{q,k,v,o}_proj.{weight,bias},
 * layers.<i>.mlp.{up,down}_proj.{weight,bias}, ln_f.{weight,bias}, head.{weight,bias}.
 * Dense weights are [in, out], init N(0, 0.02), biases 0, LayerNorm 1/0 — like the char
 * transformer of the fine-tuning jobs.
 */
import * as tf from "@tensorflow/tfjs";

export type LmConfig = { dModel: number; layers: number; heads: number; vocab: number; context: number };

type Init = "normal" | "zeros" | "ones";

/** the LM's parameters: name → shape and init, in a fixed order */
export function lmParamSpecs(c: LmConfig): { name: string; shape: number[]; init: Init }[] {
  const d = c.dModel;
  const out: { name: string; shape: number[]; init: Init }[] = [
    { name: "lm.tok_emb", shape: [c.vocab, d], init: "normal" },
    { name: "lm.pos_emb", shape: [c.context, d], init: "normal" },
  ];
  const dense = (name: string, i: number, o: number) =>
    out.push({ name: `${name}.weight`, shape: [i, o], init: "normal" }, { name: `${name}.bias`, shape: [o], init: "zeros" });
  const ln = (name: string) => out.push({ name: `${name}.weight`, shape: [d], init: "ones" }, { name: `${name}.bias`, shape: [d], init: "zeros" });
  for (let i = 0; i < c.layers; i++) {
    const p = `lm.layers.${i}`;
    ln(`${p}.ln1`);
    for (const q of ["q_proj", "k_proj", "v_proj", "o_proj"]) dense(`${p}.attn.${q}`, d, d);
    ln(`${p}.ln2`);
    dense(`${p}.mlp.up_proj`, d, 4 * d);
    dense(`${p}.mlp.down_proj`, 4 * d, d);
  }
  ln("lm.ln_f");
  dense("lm.head", d, c.vocab);
  return out;
}

type P = (name: string) => tf.Tensor;

function layerNorm(x: tf.Tensor, p: P, name: string): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), p(`${name}.weight`)), p(`${name}.bias`));
}

/** x·W + b as one fused kernel (fewer ops per step than matMul then add; the LM is op-bound on a CPU) */
const dense = (x: tf.Tensor2D, p: P, name: string) => tf.fused.matMul({ a: x, b: p(`${name}.weight`) as tf.Tensor2D, bias: p(`${name}.bias`) });

/** token embeddings [B, L, d]; one-hot × table because wasm has no gradient kernel for gather */
export function embedTokens(ids: tf.Tensor2D, p: P, c: LmConfig): tf.Tensor3D {
  const [B, L] = ids.shape;
  return tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), c.vocab), p("lm.tok_emb")), [B, L, c.dModel]);
}

/** input embeddings [B, L, d] → final hidden states [B, L, d] (after ln_f); causal */
export function lmHidden(x0: tf.Tensor3D, p: P, c: LmConfig): tf.Tensor3D {
  const [B, L, d] = x0.shape;
  if (L > c.context) throw new Error(`sequence of ${L} tokens exceeds the LM's context of ${c.context}`);
  const { heads } = c;
  const dh = d / heads;
  let x: tf.Tensor = tf.add(x0, tf.slice(p("lm.pos_emb"), [0, 0], [L, d]));
  const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([L, L]), -1, 0)), -1e9);
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, L, heads, dh]), [0, 2, 1, 3]);
  for (let i = 0; i < c.layers; i++) {
    const n = `lm.layers.${i}`;
    const h = tf.reshape(layerNorm(x, p, `${n}.ln1`), [B * L, d]) as tf.Tensor2D;
    const q = split(dense(h, p, `${n}.attn.q_proj`));
    const k = split(dense(h, p, `${n}.attn.k_proj`));
    const v = split(dense(h, p, `${n}.attn.v_proj`));
    const att = tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)), mask));
    const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * L, d]) as tf.Tensor2D;
    x = tf.add(x, tf.reshape(dense(ctx, p, `${n}.attn.o_proj`), [B, L, d]));
    const h2 = tf.reshape(layerNorm(x, p, `${n}.ln2`), [B * L, d]) as tf.Tensor2D;
    const up = tf.relu(dense(h2, p, `${n}.mlp.up_proj`)) as tf.Tensor2D;
    x = tf.add(x, tf.reshape(dense(up, p, `${n}.mlp.down_proj`), [B, L, d]));
  }
  return layerNorm(x, p, "lm.ln_f") as tf.Tensor3D;
}

/** hidden [.., d] → logits [.., vocab] */
export function lmLogits(h: tf.Tensor, p: P, c: LmConfig): tf.Tensor {
  const shape = h.shape;
  const flat = tf.reshape(h, [-1, c.dModel]) as tf.Tensor2D;
  return tf.reshape(dense(flat, p, "lm.head"), [...shape.slice(0, -1), c.vocab]);
}
