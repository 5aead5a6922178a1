import type * as core from "@heron/core";

/*
 * The artifact records the SDK's public API hands out, written out here so the published
 * .d.ts stands alone: @heron/core is bundled into the JavaScript but is never installed, so the
 * types cannot point into it. The assignments at the end keep them equal to core's schemas.
 */

/** one file of an artifact version: its relative path, SHA-256 and size */
export type ArtifactFileEntry = { path: string; digest: string; bytes: number };

/** what committing a version sends (files already uploaded as blobs) */
export type ArtifactCommit = {
  projectId: string;
  name: string;
  type: string;
  files: ArtifactFileEntry[];
  description?: string;
  metadata?: Record<string, unknown>;
  runId?: string;
  jobId?: string;
  clientKey?: string;
  aliases?: string[];
};

/** a stored artifact version as the server answers it */
export type ArtifactVersionInfo = {
  id: string;
  artifactId: string;
  projectId: string;
  name: string;
  type: string;
  version: number;
  digest: string;
  bytes: number;
  description: string | null;
  metadata: unknown;
  aliases: string[];
  runId: string | null;
  jobId: string | null;
  createdAt: string;
  files: ArtifactFileEntry[];
};

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** @internal compile-time check that these stay in step with core's schemas */
export const artifactTypesMatchCore: [
  Same<ArtifactFileEntry, core.ArtifactFileEntry>,
  Same<ArtifactCommit, core.ArtifactCommit>,
  Same<ArtifactVersionInfo, core.ArtifactVersionInfo>,
] = [true, true, true];
