import { router } from "../trpc";
import { alertRouter } from "./alert";
import { apiKeyRouter } from "./api-key";
import { artifactRouter } from "./artifact";
import { auditRouter } from "./audit";
import { jobRouter } from "./job";
import { lineageRouter } from "./lineage";
import { metricRouter } from "./metric";
import { projectRouter } from "./project";
import { runRouter } from "./run";
import { runnerRouter } from "./runner";
import { sweepRouter } from "./sweep";
import { userRouter } from "./user";
import { viewRouter } from "./view";

export const appRouter = router({
  project: projectRouter,
  run: runRouter,
  metric: metricRouter,
  job: jobRouter,
  runner: runnerRouter,
  user: userRouter,
  apiKey: apiKeyRouter,
  audit: auditRouter,
  sweep: sweepRouter,
  alert: alertRouter,
  view: viewRouter,
  lineage: lineageRouter,
  artifact: artifactRouter,
});

/** The API's type, for client scripts: `createTRPCClient<AppRouter>(…)`. */
export type AppRouter = typeof appRouter;
