import { type Command, InvalidArgumentError } from "commander";

export function parseShape(v: string): number[] {
  const dims = v.split(",").map((d) => Number(d.trim()));
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1)) throw new InvalidArgumentError("--input must be H,W,C, e.g. 32,32,3");
  return dims;
}

/** `npx heron models [--input 32,32,3]` — every seed model's layers and parameter counts. */
export function register(program: Command) {
  program
    .command("models")
    .description("print each model's layers and parameter counts (Keras-summary style)")
    .option("--input <H,W,C>", "input shape (default: each model's own dataset shape)", parseShape)
    .action(async (opts: { input?: number[] }) => {
      const { printModels } = await import("@heron/core/ml");
      console.log(printModels(opts.input));
    });
}
