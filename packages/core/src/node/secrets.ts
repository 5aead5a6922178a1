import crypto from "node:crypto";

/** Secrets are random, prefixed by kind so a leaked one is recognisable; only SHA-256 is stored. */
export type SecretKind = "api" | "runner" | "job";
const PREFIX: Record<SecretKind, string> = { api: "hk_", runner: "hr_", job: "hj_" };

export function generateSecret(kind: SecretKind): string {
  return PREFIX[kind] + crypto.randomBytes(24).toString("base64url");
}

export function hashSecret(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("hex");
}

export function secretKind(secret: string): SecretKind | null {
  for (const [kind, prefix] of Object.entries(PREFIX)) if (secret.startsWith(prefix)) return kind as SecretKind;
  return null;
}
