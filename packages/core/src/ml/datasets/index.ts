import { loadCifar10 } from "./cifar10";
import { type Dataset, limitSplit } from "./dataset";
import { loadFashionMnist } from "./fashion-mnist";
import { loadMnist } from "./mnist";
import { loadSynthetic, type SyntheticOptions } from "./synthetic";

export { CIFAR_CLASSES, encodeCifarRecords } from "./cifar10";
export { Batcher, type Dataset, type Split } from "./dataset";
export { FASHION_CLASSES } from "./fashion-mnist";

export const DATASET_NAMES = ["mnist", "fashion-mnist", "cifar10", "synthetic"] as const;

export type LoadDatasetOptions = {
  cifarPath?: string;
  maxTrainSamples?: number;
  maxTestSamples?: number;
  /** receives data-quality warnings (skipped samples); the trainer passes ctx.warn */
  warn?: (msg: string) => void;
  synthetic?: SyntheticOptions;
};

/** the dataset a train or distill spec names, with its sample limits; warnings go to the job's log */
export function loadSpecDataset(
  spec: { dataset: string; cifarPath?: string; maxTrainSamples?: number; maxTestSamples?: number },
  warn: (msg: string) => void,
): Dataset {
  return loadDataset(spec.dataset, { cifarPath: spec.cifarPath, maxTrainSamples: spec.maxTrainSamples, maxTestSamples: spec.maxTestSamples, warn });
}

// Parsing 150 MB of Fashion-MNIST JSON takes seconds: keep one copy per process.
const cache = new Map<string, Dataset>();

export function loadDataset(name: string, opts: LoadDatasetOptions = {}): Dataset {
  let key = name;
  if (name === "cifar10") key += `:${opts.cifarPath}`;
  if (name === "synthetic") key += `:${JSON.stringify(opts.synthetic ?? {})}`;
  let ds = cache.get(key);
  if (!ds) {
    switch (name) {
      case "mnist":
        ds = loadMnist();
        break;
      case "fashion-mnist":
        ds = loadFashionMnist();
        break;
      case "cifar10":
        ds = loadCifar10(opts.cifarPath);
        break;
      case "synthetic":
        ds = loadSynthetic(opts.synthetic);
        break;
      default:
        throw new Error(`unknown dataset "${name}" (known: ${DATASET_NAMES.join(", ")})`);
    }
    // user-given CIFAR files may change between runs; the packaged datasets cannot
    if (name !== "cifar10") cache.set(key, ds);
  }
  for (const w of ds.warnings ?? []) opts.warn?.(w);
  return { ...ds, train: limitSplit(ds.train, opts.maxTrainSamples), test: limitSplit(ds.test, opts.maxTestSamples) };
}
