export { startSweepController, type SweepController, type SweepControllerOptions } from "./controller";
export { createSweepHooks, type SweepHooks } from "./hooks";
export { createSweepService, type SweepService } from "./service";
