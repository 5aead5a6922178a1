/**
 * What the mini VLM learns to say, generated deterministically from the labels (the seed's
 * image–text datasets cannot be downloaded here): a caption per image for pretraining, and
 * question/answer pairs for SFT from several templates — some need the class name ("what is
 * in the image ?"), some a yes/no or a word about an attribute of the class ("can you wear
 * it ?"). Text is lower-case words separated by spaces (the tokenizer splits on spaces).
 */
import { Rng } from "../rng";

/** facts about each class that questions may ask about, per dataset */
type Attributes = {
  /** one-word category per class */
  category: string[];
  /** yes/no questions: text and the answer per class */
  yesNo: { question: string; yes: boolean[] }[];
};

const FASHION: Attributes = {
  //          t-shirt     trouser     pullover    dress       coat        sandal      shirt       sneaker     bag          ankle boot
  category: ["clothing", "clothing", "clothing", "clothing", "clothing", "footwear", "clothing", "footwear", "accessory", "footwear"],
  yesNo: [
    { question: "can you wear it ?", yes: [true, true, true, true, true, true, true, true, false, true] },
    { question: "is it worn on the feet ?", yes: [false, false, false, false, false, true, false, true, false, true] },
  ],
};

const CIFAR: Attributes = {
  //          airplane   automobile bird      cat       deer      dog       frog      horse     ship       truck
  category: ["vehicle", "vehicle", "animal", "animal", "animal", "animal", "animal", "animal", "vehicle", "vehicle"],
  yesNo: [
    { question: "can it fly ?", yes: [true, false, true, false, false, false, false, false, false, false] },
    { question: "is it alive ?", yes: [false, false, true, true, true, true, true, true, false, false] },
  ],
};

function syntheticAttributes(classes: number): Attributes {
  const even = Array.from({ length: classes }, (_, i) => i % 2 === 0);
  return {
    category: even.map((e) => (e ? "even" : "odd")),
    yesNo: [
      { question: "is its number even ?", yes: even },
      { question: "is its number small ?", yes: Array.from({ length: classes }, (_, i) => i < classes / 2) },
    ],
  };
}

/** a class name as answer words: "T-shirt/top" → "t-shirt/top", "Ankle boot" → "ankle boot" */
export const normalizeAnswer = (s: string) => s.toLowerCase().trim().split(/\s+/).join(" ");

/** class: the answer is the class name; verify: yes/no on a named class; attribute: a fact about the class */
export type QaKind = "class" | "verify" | "attribute";
export type QaPair = { question: string; answer: string; kind: QaKind; template: number };

/** the templates, the caption prompts and every word they can produce, for one dataset */
export class VlmTasks {
  readonly classNames: string[];
  private readonly attrs: Attributes;
  static readonly CLASS_QUESTIONS = ["what is in the image ?", "what kind of thing is this ?", "name the object in the picture ."];
  static readonly CAPTION_PROMPTS = ["describe the image .", "what do you see ?"];
  static readonly CATEGORY_QUESTION = "what category does it belong to ?";

  constructor(dataset: string, classNames: readonly string[]) {
    this.classNames = classNames.map(normalizeAnswer);
    this.attrs = dataset === "fashion-mnist" ? FASHION : dataset === "cifar10" ? CIFAR : syntheticAttributes(classNames.length);
    if (this.attrs.category.length !== classNames.length)
      throw new Error(`vlm: ${dataset} has ${classNames.length} classes, the task table ${this.attrs.category.length}`);
  }

  /** templates 0..2 ask for the class name, 3 "is this a <class> ?", 4 the category, 5.. yes/no attributes */
  get templateCount(): number {
    return VlmTasks.CLASS_QUESTIONS.length + 2 + this.attrs.yesNo.length;
  }

  caption(label: number): string {
    const name = this.classNames[label]!;
    return `${/^[aeiou]/.test(name) ? "an" : "a"} ${name}`;
  }

  captionPrompt(label: number, rng: Rng): string {
    void label;
    return VlmTasks.CAPTION_PROMPTS[rng.int(VlmTasks.CAPTION_PROMPTS.length)]!;
  }

  /** the pair of template `t` for an image of class `label`; `rng` picks the class a yes/no names */
  question(label: number, t: number, rng: Rng): QaPair {
    const nClass = VlmTasks.CLASS_QUESTIONS.length;
    if (t < nClass) return { question: VlmTasks.CLASS_QUESTIONS[t]!, answer: this.classNames[label]!, kind: "class", template: t };
    if (t === nClass) {
      // half the time the true class, else another one: the answer needs the class either way
      const other = rng.next() < 0.5 ? label : (label + 1 + rng.int(this.classNames.length - 1)) % this.classNames.length;
      return { question: `is this a ${this.classNames[other]} ?`, answer: other === label ? "yes" : "no", kind: "verify", template: t };
    }
    if (t === nClass + 1) return { question: VlmTasks.CATEGORY_QUESTION, answer: this.attrs.category[label]!, kind: "attribute", template: t };
    const yn = this.attrs.yesNo[t - nClass - 2]!;
    return { question: yn.question, answer: yn.yes[label] ? "yes" : "no", kind: "attribute", template: t };
  }

  /** a training pair: template and choices derived from (seed, epoch, index) so resumes replay */
  trainingPair(label: number, seed: number, epoch: number, index: number): QaPair {
    const rng = Rng.derive(seed, "vlm-qa", epoch, index);
    return this.question(label, rng.int(this.templateCount), rng);
  }

  /**
   * The held-out questions for test image `index`: one that needs the class name (cycling
   * through the class-name templates) and one about an attribute or a yes/no on the class.
   */
  evalPairs(label: number, index: number): QaPair[] {
    const rng = Rng.derive(0, "vlm-eval", index);
    const nClass = VlmTasks.CLASS_QUESTIONS.length;
    const other = nClass + (index % (this.templateCount - nClass));
    return [this.question(label, index % nClass, rng), this.question(label, other, rng)];
  }

  /** the most words a question and an answer can have (the LM's context is sized from them) */
  maxWords(): { question: number; answer: number } {
    const n = (t: string) => t.split(" ").length;
    const questions = [
      ...VlmTasks.CLASS_QUESTIONS,
      ...VlmTasks.CAPTION_PROMPTS,
      VlmTasks.CATEGORY_QUESTION,
      ...this.attrs.yesNo.map((q) => q.question),
      ...this.classNames.map((c) => `is this a ${c} ?`),
    ];
    const answers = [...this.classNames.map((_, i) => this.caption(i)), ...this.attrs.category, "yes", "no"];
    return { question: Math.max(...questions.map(n)), answer: Math.max(...answers.map(n)) };
  }

  /** every word the prompts and answers use, in a fixed order */
  words(): string[] {
    const texts = [
      ...VlmTasks.CLASS_QUESTIONS,
      ...VlmTasks.CAPTION_PROMPTS,
      VlmTasks.CATEGORY_QUESTION,
      ...this.attrs.yesNo.map((q) => q.question),
      ...this.attrs.category,
      "is this a ? yes no a an",
      ...this.classNames,
    ];
    return [...new Set(texts.flatMap((t) => t.split(" ")))].sort();
  }
}
