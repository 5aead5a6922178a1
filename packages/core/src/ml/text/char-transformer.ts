/**
 * A small decoder-only transformer LM over characters (GPT-2 layout, pre-LayerNorm):
 *   tok_emb + pos_emb → N × [x + attn(LN(x)); x + mlp(LN(x))] → LN → lm_head
 * with Qwen/LLaMA's gated MLP, mlp(h) = down_proj(silu(gate_proj(h)) · up_proj(h)) (config
 * `mlp: "relu"` keeps the earlier down_proj(relu(up_proj(h))) for models trained with it).
 * Dense layers carry Qwen/PEFT names (layers.i.attn.{q,k,v,o}_proj,
 * layers.i.mlp.{gate,up,down}_proj, lm_head) so seed 002's LoRA target list reads the same
 * here. Weights [in, out]; init N(0, 0.02) like GPT-2, biases 0, LayerNorm 1/0. Any dense
 * layer may carry a LoRA adapter.
 */
import * as tf from "@tensorflow/tfjs";

import { denseLayersOf, type TextModelConfig, type TextModelShape } from "../../schemas/finetune-spec";
import { type LoraAdapter, loraDense } from "../lora/lora";
import { hash32, Rng } from "../rng";
import { END, VOCAB_SIZE } from "./tokenizer";

export type TextForwardOptions = {
  training?: boolean;
  seed?: number;
  adapters?: Map<string, LoraAdapter>;
  /** these sequences are rows [offset, offset + B) of a batch of `total` (data-parallel shards: LoRA dropout keeps their part of the whole batch's masks) */
  rows?: { offset: number; total: number };
};

let counter = 0;

export class CharTransformer {
  readonly params = new Map<string, tf.Variable>();
  readonly vocab = VOCAB_SIZE;
  readonly config: TextModelConfig;

  /** `mlp` absent means the default, SwiGLU */
  constructor(config: TextModelShape, seed = 0) {
    this.config = { ...config, mlp: config.mlp ?? "swiglu" };
    const { dModel: d, layers, context } = this.config;
    const id = ++counter;
    const add = (name: string, shape: number[], init: "normal" | "zeros" | "ones") => {
      const size = shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(size);
      if (init === "ones") v.fill(1);
      else if (init === "normal") {
        const rng = Rng.derive(seed, "text-init", name);
        for (let i = 0; i < size; i++) v[i] = 0.02 * rng.normal();
      }
      this.params.set(name, tf.variable(tf.tensor(v, shape), true, `charlm${id}/${name}`));
    };
    add("tok_emb", [this.vocab, d], "normal");
    add("pos_emb", [context, d], "normal");
    for (const l of denseLayersOf({ text: this.config, vocab: this.vocab })) {
      add(`${l.name}.weight`, [l.inFeatures, l.outFeatures], "normal");
      add(`${l.name}.bias`, [l.outFeatures], "zeros");
    }
    for (let i = 0; i < layers; i++)
      for (const ln of ["ln1", "ln2"]) {
        add(`layers.${i}.${ln}.weight`, [d], "ones");
        add(`layers.${i}.${ln}.bias`, [d], "zeros");
      }
    add("ln_f.weight", [d], "ones");
    add("ln_f.bias", [d], "zeros");
  }

  get paramCount(): number {
    return [...this.params.values()].reduce((a, v) => a + v.size, 0);
  }

  private p(name: string): tf.Tensor {
    const v = this.params.get(name);
    if (!v) throw new Error(`text model lacks ${name}`);
    return v;
  }

  private layerNorm(x: tf.Tensor, name: string): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), this.p(`${name}.weight`)), this.p(`${name}.bias`));
  }

  /** `o.rows` here counts token rows (forward converts a shard's sequences) */
  private dense(x2d: tf.Tensor2D, name: string, o: TextForwardOptions, salt: number): tf.Tensor2D {
    const ad = o.adapters?.get(name);
    const dropSeed = o.training && ad && ad.dropout > 0 ? hash32(o.seed ?? 0, name, salt) : undefined;
    const useAd = ad
      ? { A: ad.A as unknown as tf.Tensor2D, B: ad.B as unknown as tf.Tensor2D, scale: ad.scale, dropout: o.training ? ad.dropout : 0 }
      : undefined;
    return loraDense(x2d, this.p(`${name}.weight`) as tf.Tensor2D, this.p(`${name}.bias`) as tf.Tensor1D, useAd, dropSeed, o.rows);
  }

  /** SwiGLU: down(silu(gate(h)) · up(h)); the legacy layout: down(relu(up(h))) */
  private mlp(h: tf.Tensor2D, i: number, o: TextForwardOptions): tf.Tensor2D {
    const up = this.dense(h, `layers.${i}.mlp.up_proj`, o, 5);
    if (this.config.mlp === "relu") return this.dense(tf.relu(up), `layers.${i}.mlp.down_proj`, o, 6);
    // silu(g) = g·sigmoid(g), written out: every backend has sigmoid's gradient
    const g = this.dense(h, `layers.${i}.mlp.gate_proj`, o, 8);
    const hidden = tf.mul(tf.mul(g, tf.sigmoid(g)), up) as tf.Tensor2D;
    return this.dense(hidden, `layers.${i}.mlp.down_proj`, o, 6);
  }

  /** ids [B, L] int32 → logits [B, L, vocab]; call inside tf.tidy / variableGrads */
  forward(ids: tf.Tensor2D, opts: TextForwardOptions = {}): tf.Tensor3D {
    const [B, L] = ids.shape;
    // the dense layers see [B·L, in]: a shard of sequences is a contiguous block of token rows
    const o = opts.rows ? { ...opts, rows: { offset: opts.rows.offset * L, total: opts.rows.total * L } } : opts;
    const { dModel: d, heads, layers, context } = this.config;
    if (L > context) throw new Error(`sequence of ${L} tokens exceeds the model's context of ${context}`);
    const dh = d / heads;
    // one-hot × table rather than gather: wasm has no gradient kernel for gather (UnsortedSegmentSum)
    const emb = tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), this.vocab), this.p("tok_emb"));
    let x = tf.add(tf.reshape(emb, [B, L, d]), tf.slice(this.p("pos_emb"), [0, 0], [L, d]));
    // causal mask: position t attends to ≤ t
    const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([L, L]), -1, 0)), -1e9);
    for (let i = 0; i < layers; i++) {
      const h = tf.reshape(this.layerNorm(x, `layers.${i}.ln1`), [B * L, d]) as tf.Tensor2D;
      const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, L, heads, dh]), [0, 2, 1, 3]);
      const q = split(this.dense(h, `layers.${i}.attn.q_proj`, o, 1));
      const k = split(this.dense(h, `layers.${i}.attn.k_proj`, o, 2));
      const v = split(this.dense(h, `layers.${i}.attn.v_proj`, o, 3));
      const att = tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)), mask));
      const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * L, d]) as tf.Tensor2D;
      x = tf.add(x, tf.reshape(this.dense(ctx, `layers.${i}.attn.o_proj`, o, 4), [B, L, d]));
      const h2 = tf.reshape(this.layerNorm(x, `layers.${i}.ln2`), [B * L, d]) as tf.Tensor2D;
      x = tf.add(x, tf.reshape(this.mlp(h2, i, o), [B, L, d]));
    }
    const hf = tf.reshape(this.layerNorm(x, "ln_f"), [B * L, d]) as tf.Tensor2D;
    return tf.reshape(this.dense(hf, "lm_head", o, 7), [B, L, this.vocab]) as tf.Tensor3D;
  }

  /** greedy decoding until <|end|> or maxNew tokens (no KV cache: the model is tiny) */
  generate(prompt: number[], maxNew: number, adapters?: Map<string, LoraAdapter>): number[] {
    const ids = [...prompt];
    for (let t = 0; t < maxNew; t++) {
      const window = ids.slice(-this.config.context);
      const next = tf.tidy(() => {
        const logits = this.forward(tf.tensor2d(window, [1, window.length], "int32"), { adapters });
        return tf.argMax(tf.slice(logits, [0, window.length - 1, 0], [1, 1, this.vocab]).reshape([this.vocab])).dataSync()[0]!;
      });
      ids.push(next);
      if (next === END) break;
    }
    return ids.slice(prompt.length);
  }

  getWeights(): Record<string, Float32Array> {
    return Object.fromEntries([...this.params].map(([n, v]) => [n, v.dataSync() as Float32Array]));
  }

  setWeights(w: Record<string, Float32Array>): void {
    for (const [n, v] of this.params) {
      const a = w[n];
      if (!a) throw new Error(`text checkpoint lacks ${n}`);
      if (a.length !== v.size) throw new Error(`text checkpoint ${n} has ${a.length} values, expected ${v.size} (model config differs)`);
      v.assign(tf.tensor(a, v.shape));
    }
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
