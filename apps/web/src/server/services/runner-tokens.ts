import type { Services } from "./index";
import type { Actor } from "./project-members";

/** A runner token fixed to `queues` (the runner may serve only these, whatever it asks for at hello); returned once, only its hash is stored. */
export async function createRunnerToken(services: Services, actor: Actor, name: string, queues: string[] = ["default"]) {
  const created = await services.runners.createToken(name, queues);
  await services.audit.record(actor.principal, {
    action: "runner.token_created",
    target: `runner:${created.runnerId}`,
    detail: { name, queues },
    ip: actor.ip,
  });
  return created;
}

/** The runner's connections are cut and its token refused from now on; its leases expire and requeue. */
export async function revokeRunner(services: Services, actor: Actor, runnerId: string) {
  await services.runners.revoke(runnerId);
  services.notifier.revokeCredential(`runner:${runnerId}`);
  await services.audit.record(actor.principal, { action: "runner.token_revoked", target: `runner:${runnerId}`, ip: actor.ip });
}
