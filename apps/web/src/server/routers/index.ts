import { router } from "../trpc";
import { jobRouter } from "./job";
import { metricRouter } from "./metric";
import { projectRouter } from "./project";
import { runRouter } from "./run";
import { runnerRouter } from "./runner";

export const appRouter = router({
  project: projectRouter,
  run: runRouter,
  metric: metricRouter,
  job: jobRouter,
  runner: runnerRouter,
});

/** The API's type, for client scripts: `createTRPCClient<AppRouter>(…)`. */
export type AppRouter = typeof appRouter;
