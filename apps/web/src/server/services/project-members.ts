import { AppError } from "@heron/core";

import type { ProjectRole, UserPrincipal } from "../auth/principal";
import type { Services } from "./index";

/** who acts, for the audit log */
export type Actor = { principal: UserPrincipal; ip: string | null };
/** a member named by user id or by email (exactly one; the router's schema checks) */
export type MemberRef = { projectId: string; userId?: string; email?: string };

/** the projects the caller has a role in (admins: all) */
export async function listVisibleProjects(services: Services, p: UserPrincipal) {
  const visible = await services.access.visibleProjectIds(p);
  return (await services.projects.list()).filter((project) => !visible || visible.includes(project.id));
}

/** the project with `myRole`, the caller's role there ("maintainer" for admins; "viewer" for a read-only key) */
export async function getProjectForCaller(services: Services, p: UserPrincipal, ref: string) {
  const project = await services.projects.get(ref);
  const myRole = p.admin ? "maintainer" : p.userId ? await services.access.roleIn(p.userId, project.id) : null;
  return { ...project, myRole: p.scope === "read" && myRole ? "viewer" : myRole };
}

/** the creator becomes the project's maintainer */
export async function createProject(services: Services, p: UserPrincipal, name: string, description?: string) {
  const project = await services.projects.create(name, description);
  if (p.userId) await services.members.set(project.id, p.userId, "maintainer");
  return project;
}

/** `projectId` accepts a project's id or name */
export async function listProjectMembers(services: Services, projectId: string) {
  return services.members.list((await services.projects.get(projectId)).id);
}

async function resolveMember(services: Services, ref: MemberRef) {
  const project = await services.projects.get(ref.projectId);
  const user = ref.userId ? await services.users.get(ref.userId) : await services.users.findByEmail(ref.email!);
  if (!user) throw new AppError("NOT_FOUND", `no user with email "${ref.email}"`);
  return { project, user };
}

export async function addProjectMember(services: Services, actor: Actor, ref: MemberRef & { role: ProjectRole }) {
  const { project, user } = await resolveMember(services, ref);
  const { previousRole } = await services.members.set(project.id, user.id, ref.role);
  await services.audit.record(actor.principal, {
    action: "project.role_changed",
    target: `project:${project.name}`,
    detail: { userId: user.id, email: user.email, from: previousRole, to: ref.role },
    ip: actor.ip,
  });
  return { projectId: project.id, userId: user.id, role: ref.role };
}

export async function removeProjectMember(services: Services, actor: Actor, ref: MemberRef) {
  const { project, user } = await resolveMember(services, ref);
  await services.members.remove(project.id, user.id);
  await services.audit.record(actor.principal, {
    action: "project.member_removed",
    target: `project:${project.name}`,
    detail: { userId: user.id, email: user.email },
    ip: actor.ip,
  });
  return { projectId: project.id, userId: user.id };
}
