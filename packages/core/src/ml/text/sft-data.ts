/**
 * Seed 002's `process_func`, token for token (char tokens here):
 *   input_ids = prompt + answer + [end];  attention_mask = 1 for each
 *   labels    = [−100] × len(prompt) + answer + [end]      (the prompt is never learned)
 *   all three truncated to MAX_LENGTH
 * and DataCollatorForSeq2Seq's padding: ids with <pad>, labels with −100, mask with 0.
 */
import { readFileSync } from "node:fs";

import { formatIssues } from "../../errors";
import { type SftData, type SftPair, SftPairSchema } from "../../schemas/finetune-spec";
import { IGNORE_INDEX } from "../losses";
import { almanacPairs } from "./corpus";
import { encode, encodePrompt, END, PAD } from "./tokenizer";

export type SftExample = { inputIds: number[]; attentionMask: number[]; labels: number[] };

export function processPair(p: SftPair, maxLength: number): SftExample {
  const prompt = encodePrompt(p.instruction, p.input);
  const answer = encode(p.output);
  const inputIds = [...prompt, ...answer, END].slice(0, maxLength);
  const attentionMask = inputIds.map(() => 1);
  const labels = [...prompt.map(() => IGNORE_INDEX), ...answer, END].slice(0, maxLength);
  return { inputIds, attentionMask, labels };
}

export function collate(batch: SftExample[]): { ids: Int32Array; labels: Int32Array; mask: Float32Array; length: number } {
  const length = Math.max(...batch.map((e) => e.inputIds.length));
  const ids = new Int32Array(batch.length * length).fill(PAD);
  const labels = new Int32Array(batch.length * length).fill(IGNORE_INDEX);
  const mask = new Float32Array(batch.length * length);
  batch.forEach((e, b) => {
    ids.set(e.inputIds, b * length);
    labels.set(e.labels, b * length);
    mask.fill(1, b * length, b * length + e.inputIds.length);
  });
  return { ids, labels, mask, length };
}

/** The pairs of a spec's `data`; a malformed or empty source fails with the line at fault. */
export function loadSftPairs(data: SftData, seed: number): SftPair[] {
  if ("builtin" in data) return almanacPairs(seed);
  if ("pairs" in data) return data.pairs;
  let text: string;
  try {
    text = readFileSync(data.path, "utf8");
  } catch (e) {
    throw new Error(`data.path: cannot read ${data.path} on this runner: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const pairs: SftPair[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new Error(`data.path: ${data.path} line ${i + 1} is not JSON`);
    }
    const r = SftPairSchema.safeParse(raw);
    if (!r.success) throw new Error(`data.path: ${data.path} line ${i + 1}: ${formatIssues(r.error.issues)}`);
    pairs.push(r.data);
  });
  if (!pairs.length) throw new Error(`data.path: ${data.path} holds no instruction/input/output pairs`);
  return pairs;
}
