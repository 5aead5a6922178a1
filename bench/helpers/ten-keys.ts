// The 10-key dict `npm run bench -- sdk` logs every step — one definition for the training
// loop, the SDK-only probe and the mirror process, so all three send batches of the same shape.
export const BENCH_BATCH = 64;
export const BENCH_STEPS_PER_EPOCH = 937; // MNIST's 60,000 / 64

export function tenKeys(step: number, loss: number, ema = loss, gradNorm = loss): Record<string, number> {
  return {
    "train/loss": loss,
    "train/loss_ema": ema,
    "train/grad_norm": gradNorm,
    "train/lr": 1e-3,
    "train/epoch": step / BENCH_STEPS_PER_EPOCH,
    "train/samples": step * BENCH_BATCH,
    "train/log_loss": Math.log(loss),
    "train/grad_norm_sq": gradNorm * gradNorm,
    "train/loss_x_lr": loss * 1e-3,
    "train/batch": BENCH_BATCH,
  };
}
