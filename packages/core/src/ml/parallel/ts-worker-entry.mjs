// Worker bootstrap when running from TypeScript sources: Node does not hand a parent's module
// hooks (tsx) to worker threads, so the worker registers tsx itself, then loads the real entry.
import { workerData } from "node:worker_threads";

import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
