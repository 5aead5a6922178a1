import { z } from "zod";

import { AppError } from "../errors";
import { IdSchema, JsonObjectSchema } from "./common";

/** lowercase hex SHA-256: how blobs (file contents) are named everywhere */
export const DigestSchema = z.string().regex(/^[0-9a-f]{64}$/, "digest must be 64 lowercase hex characters (SHA-256)");

/** most bytes one artifact file may have (a client never allocates for more; the server refuses beyond) */
export const MAX_ARTIFACT_FILE_BYTES = 64 * 1024 ** 3;
/** most files one artifact version may hold */
export const MAX_ARTIFACT_FILES = 10_000;

export const ArtifactNameSchema = z
  .string()
  .min(1, "artifact name must not be empty")
  .max(128, "artifact name is longer than 128 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "artifact name may hold letters, digits, '.', '_' and '-' and must start with a letter or digit");

/** model, checkpoint, dataset, file — or any other word a team uses */
export const ArtifactTypeSchema = z
  .string()
  .min(1, "artifact type must not be empty")
  .max(64, "artifact type is longer than 64 characters")
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "artifact type may hold lowercase letters, digits, '.', '_' and '-'");

/** `latest` is set by Heron; `v<N>` would be ambiguous with version numbers */
export const AliasSchema = z
  .string()
  .min(1, "alias must not be empty")
  .max(64, "alias is longer than 64 characters")
  .regex(/^[A-Za-z][A-Za-z0-9._-]*$/, "alias may hold letters, digits, '.', '_' and '-' and must start with a letter")
  .refine((a) => !/^v\d+$/.test(a), "an alias cannot look like a version (v0, v1, …)");

/**
 * A file's path inside an artifact: relative POSIX segments, none empty, "." or "..", no
 * backslash or NUL, no leading "/". Anything that reads or writes an artifact on disk joins
 * these under its own root, so this check is what keeps them inside it.
 */
export const ArtifactPathSchema = z
  .string()
  .min(1, "file path must not be empty")
  .max(512, "file path is longer than 512 characters")
  .refine((p) => !p.includes("\\") && ![...p].some((c) => c.charCodeAt(0) < 0x20), "file path may not hold a backslash or control characters")
  .refine((p) => p.split("/").every((s) => s !== "" && s !== "." && s !== ".."), "file path must be relative, without empty, '.' or '..' segments");

export const ArtifactFileSchema = z.object({
  path: ArtifactPathSchema,
  digest: DigestSchema,
  bytes: z.number().int().min(0).max(MAX_ARTIFACT_FILE_BYTES),
});
export type ArtifactFileEntry = z.infer<typeof ArtifactFileSchema>;

const ClientKeySchema = z
  .string()
  .min(8)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/, "clientKey may hold letters, digits, '_' and '-'");

/**
 * A new version: its files must be stored already (uploaded, or known by digest). `runId`:
 * the producing run (lineage); `clientKey`: the same key again returns the version it made.
 */
export const ArtifactCommitSchema = z.object({
  projectId: z.string().min(1).max(200),
  name: ArtifactNameSchema,
  type: ArtifactTypeSchema,
  files: z
    .array(ArtifactFileSchema)
    .min(1, "an artifact version holds at least one file")
    .max(MAX_ARTIFACT_FILES)
    .refine((fs) => new Set(fs.map((f) => f.path)).size === fs.length, "file paths must be unique"),
  description: z.string().max(10_000).optional(),
  metadata: JsonObjectSchema.optional(),
  runId: IdSchema.optional(),
  jobId: IdSchema.optional(),
  clientKey: ClientKeySchema.optional(),
  /** more aliases than `latest` to point at the new version (maintainers only) */
  aliases: z.array(AliasSchema).max(20).optional(),
});
export type ArtifactCommit = z.infer<typeof ArtifactCommitSchema>;

/** Starts (or finds) a resumable upload of one blob. */
export const BlobUploadStartSchema = z.object({
  projectId: z.string().min(1).max(200),
  digest: DigestSchema,
  bytes: z.number().int().min(0).max(MAX_ARTIFACT_FILE_BYTES),
});
export const BlobUploadStateSchema = z.object({
  uploadId: z.string().nullable(),
  offset: z.number().int().min(0),
  bytes: z.number().int().min(0),
  /** the blob is stored (already, or by this upload): nothing more to send */
  complete: z.boolean(),
});
export type BlobUploadState = z.infer<typeof BlobUploadStateSchema>;

export const ArtifactUseSchema = z.object({ artifactVersionId: IdSchema, runId: IdSchema.optional(), jobId: IdSchema.optional() });

/** `name`, `name:alias` or `name:v3` (no suffix means `latest`) */
export type ArtifactRef = { name: string; version: number } | { name: string; alias: string };
export function parseArtifactRef(ref: string): ArtifactRef {
  const i = ref.lastIndexOf(":");
  const name = i < 0 ? ref : ref.slice(0, i);
  const tail = i < 0 ? "latest" : ref.slice(i + 1);
  if (!ArtifactNameSchema.safeParse(name).success)
    throw new AppError("BAD_REQUEST", `artifact reference "${ref.slice(0, 200)}": "${name.slice(0, 200)}" is not an artifact name`);
  const v = /^v(\d{1,9})$/.exec(tail);
  if (v) return { name, version: Number(v[1]) };
  if (!AliasSchema.safeParse(tail).success)
    throw new AppError("BAD_REQUEST", `artifact reference "${ref.slice(0, 200)}": "${tail.slice(0, 100)}" is neither a version (v0, v1, …) nor an alias`);
  return { name, alias: tail };
}
export const ArtifactRefStringSchema = z
  .string()
  .min(1)
  .max(300)
  .refine((r) => {
    try {
      parseArtifactRef(r);
      return true;
    } catch {
      return false;
    }
  }, "artifact reference must be name, name:alias or name:v<N>");

/** One version as the HTTP API and the SDK see it. */
export const ArtifactVersionInfoSchema = z.object({
  id: z.string(),
  artifactId: z.string(),
  projectId: z.string(),
  name: z.string(),
  type: z.string(),
  version: z.number().int(),
  digest: DigestSchema,
  bytes: z.number(),
  description: z.string().nullable(),
  metadata: z.unknown().nullable(),
  aliases: z.array(z.string()),
  runId: z.string().nullable(),
  jobId: z.string().nullable(),
  createdAt: z.string(),
  files: z.array(ArtifactFileSchema),
});
export type ArtifactVersionInfo = z.infer<typeof ArtifactVersionInfoSchema>;

/**
 * The digest of a version's manifest: SHA-256 over its files sorted by path, one line each
 * ("path\0digest\0bytes\n"). Equal sets of files give equal digests whoever computes them;
 * `sha256hex` is passed in because this module is browser-safe (no node:crypto).
 */
export function manifestText(files: readonly ArtifactFileEntry[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.path}\0${f.digest}\0${f.bytes}\n`)
    .join("");
}
