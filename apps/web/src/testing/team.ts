import type { TestServer } from "./harness";

export type TeamMember = { userId: string; email: string; key: string };

/** A user with a password, optionally a role in `project`, and an API key of the given scope. */
export async function addTeamMember(
  t: TestServer,
  email: string,
  opts: { project?: string; role?: "viewer" | "member" | "maintainer"; scope?: "read" | "write" | "admin"; admin?: boolean } = {},
): Promise<TeamMember> {
  const user = await t.api.user.create.mutate({ email, password: "correct horse battery", role: opts.admin ? "admin" : "user" });
  if (opts.project && opts.role) await t.api.project.addMember.mutate({ projectId: opts.project, userId: user.id, role: opts.role });
  const { key } = await t.api.apiKey.create.mutate({ name: `${email} key`, scope: opts.scope ?? "admin", userId: user.id });
  return { userId: user.id, email, key };
}

/** Signs in through the HTTP route; returns the session cookie ("heron_session=…"). */
export async function signIn(url: string, email: string, password = "correct horse battery"): Promise<string> {
  const res = await fetch(`${url}/api/auth/sign-in`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return (res.headers.get("set-cookie") ?? "").split(";")[0]!;
}
