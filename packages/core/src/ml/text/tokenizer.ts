/**
 * Character-level tokenizer with seed 002's chat roles as single special tokens:
 *   <|system|>{instruction}<|user|>{input}<|assistant|>{output}<|end|>
 * (Qwen's "<|im_start|>system\n…<|im_end|>" template, shortened so a char-level model's
 * context is spent on content.) Unknown characters map to <unk>.
 */
import { TEXT_CHARSET, TEXT_SPECIAL_TOKENS, TEXT_VOCAB_SIZE } from "../../schemas/finetune-spec";

export const PAD = 0;
export const SYSTEM = 1;
export const USER = 2;
export const ASSISTANT = 3;
export const END = 4;
export const UNK = 5;
export const VOCAB_SIZE = TEXT_VOCAB_SIZE;
const OFFSET = TEXT_SPECIAL_TOKENS.length;
const CHAR_ID = new Map([...TEXT_CHARSET].map((ch, i) => [ch, OFFSET + i]));

export function encode(text: string): number[] {
  return [...text].map((ch) => CHAR_ID.get(ch) ?? UNK);
}

/** text of the ids up to the first <|end|> (specials dropped) */
export function decode(ids: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id === END) break;
    if (id >= OFFSET) s += TEXT_CHARSET[id - OFFSET];
  }
  return s;
}

/** the prompt part of seed 002's template, ending where the answer starts */
export function encodePrompt(instruction: string, input: string): number[] {
  return [SYSTEM, ...encode(instruction), USER, ...encode(input), ASSISTANT];
}
