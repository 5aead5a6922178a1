/**
 * Submit-time checks that a pipeline's stages can start from each other's checkpoints, from
 * names and shapes alone (stage-shapes.ts): an `init` whose tensors this stage's model lacks
 * or holds in another shape, a distill teacher / fine-tune base `{fromStage}` whose checkpoint
 * is not a model that job can build on this stage's data, LoRA targets the base does not
 * have, `freeze` / `train` patterns that match no parameter. The jobs make the same checks
 * with tensors when they run; here a pipeline that would fail at stage 3 after an hour of
 * stage 1 is refused before anything runs. A stage whose model is only known to its job (a
 * teacher/base given as a run or an artifact: the server checks those itself) is not checked
 * here. Pure and browser-safe; PipelineSpecSchema runs it.
 */
import { compileGlob, matchGlob } from "../glob";
import { DATASET_SHAPES, describeDistillFeatures, type DistillSpec, featureAlignmentError } from "../schemas/distill-spec";
import { denseLayersOf, type FinetuneSpec, selectLoraTargets, TEXT_VOCAB_SIZE } from "../schemas/finetune-spec";
import type { PipelineStage, PipelineStageSpec } from "../schemas/pipeline-spec";
import {
  describeStageModel,
  type Dim,
  formatShape,
  imageModelShapes,
  loraParamNames,
  pretrainModel,
  type StageModel,
  stageModelShapes,
  type TensorShapes,
  vlmShapes,
} from "./stage-shapes";

export type StageIssue = { path: (string | number)[]; message: string };

/** what the checks know of one stage; null fields: known only to its job */
type StageInfo = {
  /** what its checkpoint holds, as a later teacher/base reads it */
  model: StageModel | null;
  /** the tensors `init` loads into */
  params: TensorShapes | null;
  /** the names `freeze` / `train` patterns choose from, and what trains without them */
  names: string[] | null;
  byDefault: string[] | null;
  /** what its newest checkpoint holds */
  checkpoint: TensorShapes | null;
};

type Ctx = { stage: PipelineStage; index: number; infos: Map<string, StageInfo>; issue: (path: (string | number)[], message: string) => void };

const sameShape = (a: readonly Dim[], b: readonly Dim[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const inputOf = (dataset: string | undefined): [number, number, number] => DATASET_SHAPES[dataset ?? ""] ?? [28, 28, 1];
const listNames = (names: readonly string[]) => names.slice(0, 8).join(", ") + (names.length > 8 ? `, … (${names.length} in all)` : "");

/** the first tensor both hold in different shapes, as "name is A in x, B in y" */
function shapeMismatch(from: TensorShapes, to: TensorShapes, names: Iterable<string>, fromWhat: string, toWhat: string): string | null {
  for (const n of names) {
    const a = from.get(n);
    const b = to.get(n);
    if (a && b && !sameShape(a, b)) return `tensor ${n} is ${formatShape(a)} in ${fromWhat} but ${formatShape(b)} in ${toWhat}`;
  }
  return null;
}

/** the checkpoint of an image model as rebuilt on another input shape: does it load? */
function imageFit(src: StageModel & { kind: "image" }, srcCkpt: TensorShapes | null, input: [number, number, number]): string | null {
  if (!srcCkpt) return null;
  let here: TensorShapes;
  try {
    here = imageModelShapes(src.model, input, src.classes);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return shapeMismatch(srcCkpt, here, here.keys(), "its checkpoint", `${src.model} on this stage's ${input.join("×")} input`);
}

function sourceInfo(c: Ctx, fromStage: string): StageInfo | null {
  return c.infos.get(fromStage) ?? null;
}

function distillInfo(c: Ctx, spec: DistillSpec): StageInfo {
  // a distill job given several methods trains one student after another; a stage's checkpoint must be one model
  if (spec.methods.length !== 1) c.issue(["stages", c.index, "spec", "methods"], `a pipeline stage runs one distillation method (got ${spec.methods.length})`);
  const input = inputOf(spec.dataset);
  const student = imageModelShapes(spec.student, input);
  const teacherRef = spec.teacher;
  const p = (field: string) => ["stages", c.index, "spec", "teacher", field];
  let teacher: string | null = "model" in teacherRef ? teacherRef.model : null;
  if ("fromStage" in teacherRef) {
    const src = sourceInfo(c, teacherRef.fromStage);
    const m = src?.model;
    if (m && m.kind !== "image")
      c.issue(
        p("fromStage"),
        `stage "${teacherRef.fromStage}" holds ${describeStageModel(m)}; a teacher must be an image classifier (a train, distill or image fine-tune stage)`,
      );
    else if (m) {
      const why = imageFit(m, src.checkpoint, input);
      if (why) c.issue(p("fromStage"), `stage "${teacherRef.fromStage}"'s checkpoint cannot be this stage's teacher on ${spec.dataset}: ${why}`);
      else {
        teacher = m.model;
        for (const method of spec.methods) {
          const bad = featureAlignmentError(method, teacher, spec.student, input);
          if (bad) c.issue(["stages", c.index, "spec", "methods"], `teacher from stage "${teacherRef.fromStage}": ${bad}`);
        }
      }
    }
  }
  const all = new Map(student);
  if (spec.methods.includes("regressor")) {
    // distill/regressor.ts: a 3×3 conv from the student's feature map to the teacher's
    const sc = describeDistillFeatures(spec.student, input).featureMap?.[2] ?? 0;
    const tc: Dim = teacher ? (describeDistillFeatures(teacher, input).featureMap?.[2] ?? 0) : "teacher channels";
    all.set("regressor.0.weight", [3, 3, sc, tc]).set("regressor.0.bias", [tc]);
  }
  const names = [...all.keys()];
  return { model: { kind: "image", model: spec.student, input, classes: 10 }, params: student, names, byDefault: names, checkpoint: all };
}

function finetuneInfo(c: Ctx, spec: FinetuneSpec): StageInfo {
  const base = spec.base;
  const p = (...field: string[]) => ["stages", c.index, "spec", ...field];
  let model: StageModel | null = pretrainModel(spec);
  if ("fromStage" in base) {
    const src = sourceInfo(c, base.fromStage);
    const m = src?.model;
    const wants = spec.task === "text" ? "the text model (a text fine-tune stage)" : "an image classifier (a train, distill or image fine-tune stage)";
    if (m && (m.kind === "vlm" || (m.kind === "text") !== (spec.task === "text")))
      c.issue(p("base", "fromStage"), `stage "${base.fromStage}" holds ${describeStageModel(m)}; a ${spec.task} fine-tune needs ${wants}`);
    else if (m?.kind === "image") {
      const input = inputOf(spec.dataset);
      const why = imageFit(m, src!.checkpoint, input);
      if (why) c.issue(p("base", "fromStage"), `stage "${base.fromStage}"'s checkpoint cannot be fine-tuned on ${spec.dataset}: ${why}`);
      else model = { ...m, input };
    } else if (m) model = m;
  }
  if (!model) return { model: null, params: null, names: null, byDefault: null, checkpoint: null };
  const shapes = stageModelShapes(model);
  const layers =
    model.kind === "text"
      ? denseLayersOf({ text: model.config, vocab: TEXT_VOCAB_SIZE })
      : model.kind === "image"
        ? denseLayersOf({ image: model.model, input: model.input })
        : [];
  let adapters: string[] = [];
  if (spec.lora) {
    try {
      adapters = selectLoraTargets(layers, spec.lora).map((l) => l.name);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const field = msg.startsWith("lora.r") ? "r" : "targets";
      c.issue(p("lora", field), `${msg.replace(/^lora\.\w+: /, "")} — in the base, ${describeStageModel(model)}`);
    }
  }
  const names = [...shapes.keys(), ...loraParamNames(adapters)];
  const head = layers.at(-1)?.name;
  const byDefault =
    spec.method === "lora" ? loraParamNames(adapters) : spec.method === "head" && head ? [`${head}.weight`, `${head}.bias`] : [...shapes.keys()];
  // the checkpoint a later stage reads is the merged model (image-finetune.ts, text-finetune.ts)
  return { model, params: shapes, names, byDefault, checkpoint: shapes };
}

function stageInfo(c: Ctx, spec: PipelineStageSpec): StageInfo {
  if (spec.kind === "distill") return distillInfo(c, spec);
  if (spec.kind === "finetune") return finetuneInfo(c, spec);
  if (spec.kind === "vlm-stage") {
    const shapes = vlmShapes(spec);
    return { model: { kind: "vlm", spec }, params: shapes, names: [...shapes.keys()], byDefault: [...shapes.keys()], checkpoint: shapes };
  }
  const input = inputOf(spec.dataset);
  const shapes = imageModelShapes(spec.model, input);
  return {
    model: { kind: "image", model: spec.model, input, classes: 10 },
    params: shapes,
    names: [...shapes.keys()],
    byDefault: [...shapes.keys()],
    checkpoint: shapes,
  };
}

/** `init` against the checkpoint of the stage it names (stage-init.ts makes the same decisions with tensors) */
function checkInit(c: Ctx, info: StageInfo) {
  const s = c.stage;
  const inner = (s.spec as { init?: { fromStage?: string; load?: string[] } }).init;
  const fromStage = s.init?.fromStage ?? inner?.fromStage;
  if (fromStage === undefined) return;
  const base = s.init ? ["stages", c.index, "init"] : ["stages", c.index, "spec", "init"];
  if (s.spec.kind === "finetune") {
    c.issue([...base, "fromStage"], `a fine-tune starts from its base, not from init: write base: {fromStage: "${fromStage}"} instead`);
    return;
  }
  const src = sourceInfo(c, fromStage);
  if (!src?.checkpoint || !info.params) return;
  const load = s.init?.load ?? inner?.load;
  const stored = [...src.checkpoint.keys()];
  const srcWhat = `stage "${fromStage}"'s checkpoint (${src.model ? describeStageModel(src.model) : "its model"})`;
  const here = `this stage's model (${info.model ? describeStageModel(info.model) : s.spec.kind})`;
  let wanted: string[];
  if (load) {
    wanted = [];
    for (const pattern of load) {
      const g = compileGlob(pattern);
      const hits = stored.filter((n) => matchGlob(g, n));
      if (!hits.length) c.issue([...base, "load"], `"${pattern}" matches no tensor of ${srcWhat} (tensors: ${listNames(stored)})`);
      wanted.push(...hits);
    }
    const missing = wanted.find((n) => !info.params!.has(n));
    if (missing) return c.issue([...base, "load"], `tensor ${missing} of ${srcWhat} has no parameter of that name in ${here}`);
  } else {
    wanted = stored.filter((n) => info.params!.has(n));
    if (!wanted.length) return c.issue([...base, "fromStage"], `${srcWhat} shares no tensor name with ${here}; name what to load with init.load`);
  }
  const bad = shapeMismatch(src.checkpoint, info.params, wanted, `stage "${fromStage}"'s checkpoint`, here);
  if (bad) c.issue([...base, load ? "load" : "fromStage"], `${bad}, so it cannot be loaded`);
}

/** `freeze` / `train` against the stage's parameter names (ml/freeze.ts decides the same with tensors) */
function checkFreeze(c: Ctx, info: StageInfo) {
  const spec = c.stage.spec as { freeze?: string[]; train?: string[] };
  if (!info.names || (!spec.freeze?.length && !spec.train?.length)) return;
  const names = info.names;
  const select = (field: "freeze" | "train") => {
    const out = new Set<string>();
    for (const pattern of spec[field] ?? []) {
      const g = compileGlob(pattern);
      const hits = names.filter((n) => matchGlob(g, n));
      if (!hits.length)
        c.issue(["stages", c.index, "spec", field], `"${pattern}" matches no parameter of this stage's model (parameters: ${listNames(names)})`);
      for (const h of hits) out.add(h);
    }
    return out;
  };
  const train = spec.train?.length ? select("train") : new Set(info.byDefault ?? names);
  const frozen = select("freeze");
  if (![...train].some((n) => !frozen.has(n))) c.issue(["stages", c.index, "spec", "freeze"], "the freeze/train patterns leave no parameter to train");
}

/** every issue of the pipeline's stages, in order; stages earlier than one that failed are still checked */
export function checkPipelineStages(stages: readonly PipelineStage[]): StageIssue[] {
  const issues: StageIssue[] = [];
  const infos = new Map<string, StageInfo>();
  stages.forEach((stage, index) => {
    const c: Ctx = { stage, index, infos, issue: (path, message) => issues.push({ path, message: `stage "${stage.name}": ${message}` }) };
    try {
      const info = stageInfo(c, stage.spec);
      checkInit(c, info);
      checkFreeze(c, info);
      infos.set(stage.name, info);
    } catch (e) {
      // a model that does not fit its dataset (input too small for its pools): a refusal, never a crash of the submit
      c.issue(["stages", index, "spec"], e instanceof Error ? e.message : String(e));
    }
  });
  return issues;
}
