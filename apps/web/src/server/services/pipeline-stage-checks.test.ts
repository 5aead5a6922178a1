// Submit-time checks of distill and fine-tune stages (jobs/pipeline-check.ts, through
// job.submit): a stage that cannot load what it starts from — tensors its model lacks or holds
// in another shape, LoRA targets the base does not have, a teacher/base stage that is missing,
// later, of the wrong kind or trained on another input shape — is refused before anything
// runs, naming the stage and the field. Valid distill and fine-tune pipelines run (fake stage
// executor): the server fills the teacher's and base's job, and the runner fetched it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../../testing/harness";
import { type SeenStage, stageExecutor } from "../../testing/stage-executor";

const TRAIN = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 } as const;
const DISTILL = { kind: "distill", dataset: "synthetic", student: "mlp-mnist", methods: ["kd"], epochs: 1, batchSize: 8, lr: 0.01 } as const;
const FT = {
  kind: "finetune",
  task: "image",
  dataset: "synthetic",
  method: "lora",
  lora: { r: 4, targets: ["layer2"] },
  epochs: 1,
  batchSize: 8,
  lr: 0.01,
} as const;
const VLM = { kind: "vlm-stage", stage: "encoder", dataset: "synthetic" } as const;

describe("pipeline stage checks", () => {
  let t: TestServer;
  let home = "";
  let daemon: RunnerDaemon | undefined;
  const seen: SeenStage[] = [];
  const refused = async (stages: unknown[]) => {
    const err: unknown = await t.api.job.submit.mutate({ projectId: "checks", spec: { kind: "pipeline", stages } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, "the pipeline was accepted").toBeInstanceOf(Error);
    return (err as Error).message;
  };
  const succeeded = (jobId: string) =>
    waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        if (["failed", "cancelled"].includes(j.status)) throw new Error(`pipeline ${j.status}: ${j.error ?? ""}`);
        return j.status === "succeeded" ? j : null;
      },
      60_000,
      `pipeline ${jobId} to succeed`,
    );
  beforeAll(async () => {
    t = await startTestServer("sqlite");
    await t.api.project.create.mutate({ name: "checks" });
    const { token } = await t.api.runner.createToken.mutate({ name: "r" });
    home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-checks-"));
    daemon = new RunnerDaemon({
      server: t.server.url,
      token,
      name: "r",
      slots: 1,
      home,
      checkpointSyncMs: 200,
      executor: stageExecutor(home, seen),
      logger: pino({ level: "silent" }),
    });
    await daemon.start();
  });
  afterAll(async () => {
    await daemon?.stop();
    await t?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("refuses a stage whose init cannot load the earlier stage's tensors", async () => {
    const a = { name: "a", spec: TRAIN };
    // another model: no tensor name in common
    expect(await refused([a, { name: "b", spec: { ...TRAIN, model: "light-cnn" }, init: { fromStage: "a" } }])).toMatch(
      /stages\.1\.init\.fromStage: stage "b": stage "a"'s checkpoint \(mlp-mnist on 28×28×1\) shares no tensor name with this stage's model \(light-cnn on 28×28×1\)/,
    );
    // another input shape: same names, other shapes
    expect(
      await refused([a, { name: "b", spec: { ...TRAIN, dataset: "cifar10", cifarPath: "/data/cifar" }, init: { fromStage: "a", load: ["layer1.*"] } }]),
    ).toMatch(
      /stages\.1\.init\.load: stage "b": tensor layer1\.weight is 784×128 in stage "a"'s checkpoint but 3072×128 in this stage's model \(mlp-mnist on 32×32×3\)/,
    );
    // a load pattern naming nothing the checkpoint holds (written in the spec's own init)
    expect(await refused([a, { name: "b", spec: { ...TRAIN, init: { fromStage: "a", load: ["encoder.**"] } } }])).toMatch(
      /stages\.1\.spec\.init\.load: stage "b": "encoder\.\*\*" matches no tensor of stage "a"'s checkpoint \(mlp-mnist on 28×28×1\) \(tensors: layer1\.weight/,
    );
    // a distill student of another model loading the first stage's layer
    expect(
      await refused([a, { name: "d", spec: { ...DISTILL, teacher: { fromStage: "a" }, student: "light-cnn" }, init: { fromStage: "a", load: ["layer1.**"] } }]),
    ).toMatch(
      /stages\.1\.init\.load: stage "d": tensor layer1\.weight of stage "a"'s checkpoint .* has no parameter of that name in this stage's model \(light-cnn on 28×28×1\)/,
    );
    // freeze patterns are held to the stage's parameter names
    expect(await refused([{ name: "a", spec: { ...TRAIN, freeze: ["encoder.**"] } }])).toMatch(
      /stages\.0\.spec\.freeze: stage "a": "encoder\.\*\*" matches no parameter/,
    );
    expect(await refused([{ name: "a", spec: { ...TRAIN, train: ["layer1.*"], freeze: ["layer1.weight", "layer1.bias"] } }])).toMatch(
      /stage "a": the freeze\/train patterns leave no parameter to train/,
    );
  });

  it("refuses a distill stage whose teacher stage is missing, later, of another kind or another input shape", async () => {
    const a = { name: "a", spec: TRAIN };
    expect(await refused([a, { name: "d", spec: { ...DISTILL, teacher: { fromStage: "nope" } } }])).toMatch(
      /stages\.1\.spec\.teacher\.fromStage: stage "d" takes its teacher from stage "nope", but the pipeline has no stage of that name/,
    );
    expect(await refused([{ name: "d", spec: { ...DISTILL, teacher: { fromStage: "a" } } }, a])).toMatch(
      /stages\.0\.spec\.teacher\.fromStage: .*which is not an earlier stage/,
    );
    expect(await refused([a, { name: "d", spec: { ...DISTILL, teacher: { fromStage: "a", jobId: "someone-elses" } } }])).toMatch(
      /stages\.1\.spec\.teacher\.jobId: teacher\.jobId is filled in by the server/,
    );
    expect(
      await refused([
        { name: "v", spec: VLM },
        { name: "d", spec: { ...DISTILL, teacher: { fromStage: "v" } } },
      ]),
    ).toMatch(/stages\.1\.spec\.teacher\.fromStage: stage "d": stage "v" holds the mini VLM's encoder \(synthetic\); a teacher must be an image classifier/);
    expect(
      await refused([
        { name: "a", spec: { ...TRAIN, dataset: "cifar10", cifarPath: "/data/cifar" } },
        { name: "d", spec: { ...DISTILL, teacher: { fromStage: "a" } } },
      ]),
    ).toMatch(
      /stages\.1\.spec\.teacher\.fromStage: stage "d": stage "a"'s checkpoint cannot be this stage's teacher on synthetic: tensor layer1\.weight is 3072×128/,
    );
    expect(await refused([a, { name: "d", spec: { ...DISTILL, student: "light-cnn", methods: ["regressor"], teacher: { fromStage: "a" } } }])).toMatch(
      /stages\.1\.spec\.methods: stage "d": teacher from stage "a": regressor needs a convolutional teacher with a feature map; mlp-mnist has none/,
    );
    expect(await refused([a, { name: "d", spec: { ...DISTILL, methods: ["kd", "ce"], teacher: { fromStage: "a" } } }])).toMatch(
      /stages\.1\.spec\.methods: stage "d": a pipeline stage runs one distillation method \(got 2\)/,
    );
    // a single job cannot name a stage
    const single = await t.api.job.submit.mutate({ projectId: "checks", spec: { ...DISTILL, teacher: { fromStage: "a" } } }).then(
      () => null,
      (e: unknown) => (e as Error).message,
    );
    expect(single).toMatch(/teacher\.fromStage names an earlier stage of a pipeline/);
  });

  it("refuses a fine-tune stage whose base stage lacks its LoRA targets or holds the other kind of model", async () => {
    const a = { name: "a", spec: TRAIN };
    expect(await refused([a, { name: "ft", spec: { ...FT, base: { fromStage: "a" }, lora: { r: 4, targets: ["q_proj"] } } }])).toMatch(
      /stages\.1\.spec\.lora\.targets: stage "ft": "q_proj" matches no dense layer \(layers: layer1, layer2\) — in the base, mlp-mnist on 28×28×1/,
    );
    expect(await refused([a, { name: "ft", spec: { ...FT, base: { fromStage: "a" }, lora: { r: 200, targets: ["layer1"] } } }])).toMatch(
      /stages\.1\.spec\.lora\.r: stage "ft": r=200 is larger than layer layer1/,
    );
    const text = {
      kind: "finetune",
      task: "text",
      data: { builtin: "almanac" },
      method: "lora",
      lora: { targets: ["q_proj"] },
      epochs: 1,
      batchSize: 8,
      lr: 0.01,
    };
    expect(await refused([a, { name: "ft", spec: { ...text, base: { fromStage: "a" } } }])).toMatch(
      /stages\.1\.spec\.base\.fromStage: stage "ft": stage "a" holds mlp-mnist on 28×28×1; a text fine-tune needs the text model/,
    );
    expect(await refused([a, { name: "ft", spec: { ...FT, base: { fromStage: "a" } }, init: { fromStage: "a" } }])).toMatch(
      /stages\.1\.init\.fromStage: stage "ft": a fine-tune starts from its base, not from init: write base: \{fromStage: "a"\} instead/,
    );
    expect(await refused([a, { name: "ft", spec: { ...FT, base: { fromStage: "a" }, checkpoint: { excludeFrozen: true } } }])).toMatch(
      /stages\.1\.spec\.checkpoint\.excludeFrozen: fine-tune jobs store every tensor/,
    );
    // a base trained in the stage itself is checked too
    expect(
      await refused([
        { name: "ft", spec: { ...FT, base: { pretrain: { model: "light-cnn", dataset: "synthetic", epochs: 1 } }, lora: { r: 4, targets: ["layer2"] } } },
      ]),
    ).toMatch(/stages\.0\.spec\.lora\.targets: stage "ft": "layer2" matches no dense layer \(layers: classifier\.0, classifier\.3\)/);
  });

  it("runs a train → distill → fine-tune pipeline: the teacher and base are the earlier stages' jobs, fetched by the runner", { timeout: 90_000 }, async () => {
    const stages = [
      { name: "teacher", spec: TRAIN },
      { name: "student", spec: { ...DISTILL, teacher: { fromStage: "teacher" } }, init: { fromStage: "teacher", load: ["layer1.*"] } },
      { name: "tuned", spec: { ...FT, base: { fromStage: "student" }, freeze: ["layer2.lora_A"] } },
    ];
    const { jobIds } = await t.api.job.submit.mutate({ projectId: "checks", spec: { kind: "pipeline", stages } });
    const [pipelineId, teacher, student, tuned] = jobIds as [string, string, string, string];
    const end = await succeeded(pipelineId);
    expect(end.stages!.map((s) => [s.name, s.kind, s.status])).toEqual([
      ["teacher", "train", "succeeded"],
      ["student", "distill", "succeeded"],
      ["tuned", "finetune", "succeeded"],
    ]);
    expect((await t.api.job.get.query({ jobId: student })).spec).toMatchObject({ teacher: { fromStage: "teacher", jobId: teacher }, init: { jobId: teacher } });
    expect((await t.api.job.get.query({ jobId: tuned })).spec).toMatchObject({
      base: { fromStage: "student", jobId: student },
      init: { sources: [teacher, student] },
    });
    // each stage's runner had the checkpoints of the stages it reads when it started
    expect(Object.keys(seen.find((s) => s.jobId === tuned)!.sourceSteps).sort()).toEqual([teacher, student].sort());

    // a base given as a finished run is checked as a single job's is, named by its stage
    const run = (await t.api.job.get.query({ jobId: teacher })).runId!;
    expect(
      await refused([
        { name: "a", spec: TRAIN },
        { name: "ft", spec: { ...FT, base: { runId: run }, lora: { r: 4, targets: ["q_proj"] } } },
      ]),
    ).toMatch(/stages\.1\.spec\.lora\.targets: "q_proj" matches no dense layer/);
    expect(
      await refused([
        { name: "a", spec: TRAIN },
        { name: "d", spec: { ...DISTILL, dataset: "cifar10", cifarPath: "/c", teacher: { runId: run } } },
      ]),
    ).toMatch(/stages\.1\.spec\.teacher: run .* was trained on synthetic \(28×28×1\), which cannot feed cifar10 \(32×32×3\)/);
    // single jobs keep their checks (the same functions)
    const single = (spec: object) =>
      t.api.job.submit.mutate({ projectId: "checks", spec }).then(
        () => null,
        (e: unknown) => (e as Error).message,
      );
    expect(await single({ ...FT, base: { runId: run }, lora: { r: 4, targets: ["q_proj"] } })).toMatch(/^lora\.targets: "q_proj" matches no dense layer/);
    expect(await single({ ...FT, base: { pretrain: { model: "mlp-mnist", dataset: "synthetic", epochs: 1 } }, lora: { r: 4, targets: ["fc9"] } })).toMatch(
      /^lora\.targets: "fc9" matches no dense layer \(layers: layer1, layer2\)/,
    );
    expect(await single({ ...FT, base: { fromStage: "teacher" } })).toMatch(/base\.fromStage names an earlier stage of a pipeline/);
    expect(await single({ ...DISTILL, dataset: "cifar10", cifarPath: "/c", teacher: { runId: run } })).toMatch(/^teacher: run .* which cannot feed cifar10/);
    // a VLM stage's run checkpoints, but it is no teacher
    const vlm = await t.api.job.submit.mutate({ projectId: "checks", spec: { kind: "pipeline", stages: [{ name: "v", spec: VLM }] } });
    const vlmRun = (await succeeded(vlm.jobId)).stages![0]!.runId!;
    expect(await single({ ...DISTILL, teacher: { runId: vlmRun } })).toMatch(
      /^teacher: run .* holds the mini VLM \(a vlm-stage job\), which cannot be a teacher/,
    );
  });
});
