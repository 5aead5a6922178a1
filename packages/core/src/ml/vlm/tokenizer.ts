/**
 * Word-level tokenizer of the mini VLM: a closed vocabulary (special tokens, then every word
 * the dataset's captions and questions use, vlm/tasks.ts). A prompt holds one `<image>`
 * placeholder word; encoding expands it into one `<image>` id per patch token, and the
 * model replaces those positions by the projected image tokens (seed 001's "@@@…" run).
 *
 *   ids    = <image>×T  question-words  <answer>  answer-words  <end>
 *   labels = −100 … (everything up to and including <answer>)   answer-words  <end>
 */
import { IGNORE_INDEX } from "../losses";

export const PAD = 0;
export const IMAGE = 1;
export const ANSWER = 2;
export const END = 3;
export const UNK = 4;
const SPECIALS = ["<pad>", "<image>", "<answer>", "<end>", "<unk>"];

export type VlmExample = { ids: number[]; labels: number[] };

export class WordTokenizer {
  readonly vocab: string[];
  private readonly ids: Map<string, number>;

  constructor(words: readonly string[]) {
    this.vocab = [...SPECIALS, ...words.filter((w) => !SPECIALS.includes(w))];
    this.ids = new Map(this.vocab.map((w, i) => [w, i]));
  }

  get size(): number {
    return this.vocab.length;
  }

  /** words → ids; `<image>` becomes `imageTokens` IMAGE ids */
  encode(text: string, imageTokens = 1): number[] {
    const out: number[] = [];
    for (const w of text.split(" ").filter(Boolean)) {
      if (w === "<image>") for (let i = 0; i < imageTokens; i++) out.push(IMAGE);
      else out.push(this.ids.get(w) ?? UNK);
    }
    return out;
  }

  /** the words of `ids` up to the first <end>, specials dropped */
  decode(ids: ArrayLike<number>): string {
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === END) break;
      if (id > UNK) words.push(this.vocab[id]!);
    }
    return words.join(" ");
  }

  /** the prompt part: image placeholder, question, <answer> (generation starts after it) */
  prompt(question: string, imageTokens: number): number[] {
    return [...this.encode(`<image> ${question}`, imageTokens), ANSWER];
  }

  /** a training example: the loss covers the answer and <end> only */
  example(question: string, answer: string, imageTokens: number): VlmExample {
    const prompt = this.prompt(question, imageTokens);
    const ans = [...this.encode(answer), END];
    return { ids: [...prompt, ...ans], labels: [...prompt.map(() => IGNORE_INDEX), ...ans] };
  }
}

/** right-pads examples into [B, L] ids (PAD) and labels (−100) */
export function padBatch(batch: readonly VlmExample[]): { ids: Int32Array; labels: Int32Array; length: number } {
  const length = Math.max(...batch.map((e) => e.ids.length));
  const ids = new Int32Array(batch.length * length).fill(PAD);
  const labels = new Int32Array(batch.length * length).fill(IGNORE_INDEX);
  batch.forEach((e, b) => {
    ids.set(e.ids, b * length);
    labels.set(e.labels, b * length);
  });
  return { ids, labels, length };
}
