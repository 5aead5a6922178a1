/**
 * A small world the project generates itself (nothing downloaded): towns with a river, an
 * animal and a fruit. Pre-training reads it as plain prose ("the river of amber vale is
 * the silver river."); fine-tuning teaches the question → answer form of the same facts,
 * like seed 002 teaches a general model to answer legal questions in one register.
 * Deterministic in the seed.
 */
import type { SftPair } from "../../schemas/finetune-spec";
import { Rng } from "../rng";

const PRE = ["am", "bel", "cor", "dun", "el", "fen", "gar", "hol", "ith", "kel", "lor", "mar", "nor", "os", "pel", "ros"];
const POST = ["ber vale", "den", "ford", "wick", "mere", "holm", "stead", "ton"];
const RIVERS = ["silver", "black", "green", "amber", "grey", "white", "red", "blue"];
const ANIMALS = ["goats", "geese", "bees", "sheep", "horses", "ducks", "cats", "owls"];
const FRUITS = ["apples", "plums", "pears", "figs", "grapes", "lemons", "cherries", "dates"];

export type Town = { name: string; river: string; animal: string; fruit: string };

export function almanacTowns(seed = 0, count = 12): Town[] {
  const rng = Rng.derive(seed, "almanac");
  const names = new Set<string>();
  const towns: Town[] = [];
  while (towns.length < count) {
    const name = PRE[rng.int(PRE.length)]! + POST[rng.int(POST.length)]!;
    if (names.has(name)) continue;
    names.add(name);
    towns.push({ name, river: RIVERS[rng.int(RIVERS.length)]!, animal: ANIMALS[rng.int(ANIMALS.length)]!, fruit: FRUITS[rng.int(FRUITS.length)]! });
  }
  return towns;
}

/** plain prose for pre-training: every fact several times, in a few phrasings, shuffled */
export function almanacCorpus(seed = 0): string {
  const rng = Rng.derive(seed, "almanac-corpus");
  const lines: string[] = [];
  for (const t of almanacTowns(seed))
    for (let k = 0; k < 4; k++)
      lines.push(
        `the river of ${t.name} is the ${t.river} river.`,
        `in ${t.name} the people keep ${t.animal}.`,
        `${t.name} is known for its ${t.fruit}.`,
        `travellers to ${t.name} cross the ${t.river} river and see ${t.animal}.`,
      );
  const order = rng.permutation(lines.length);
  return Array.from(order, (i) => lines[i]!).join("\n") + "\n";
}

/** instruction → answer pairs over the same facts (seed 002's {instruction, input, output}) */
export function almanacPairs(seed = 0): SftPair[] {
  const instruction = "answer briefly.";
  const pairs: SftPair[] = [];
  for (const t of almanacTowns(seed))
    pairs.push(
      { instruction, input: `which river runs through ${t.name}?`, output: `the ${t.river} river.` },
      { instruction, input: `what do people keep in ${t.name}?`, output: `${t.animal}.` },
      { instruction, input: `what is ${t.name} known for?`, output: `its ${t.fruit}.` },
    );
  const order = Rng.derive(seed, "almanac-pairs").permutation(pairs.length);
  return Array.from(order, (i) => pairs[i]!);
}
