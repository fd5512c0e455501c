// Pure logic of the roles page: labels in the user's language, and who holds a role where.
import type { Lang, AdminRole, RoleMember, SubjectRef } from "../types";

/** A standard role's label in `lang`, unless the office relabelled it (then its own label). */
export function roleLabel(role: Pick<AdminRole, "name" | "label" | "labels">, lang: Lang): string {
  const standard = role.labels ?? {};
  if (standard.en !== undefined && role.label === standard.en) return standard[lang] || role.label;
  return role.label || role.name;
}

/** Roles in the order of their labels in `lang` (the names are Dutch, the labels are not). */
export function byLabel(roles: AdminRole[], lang: Lang): AdminRole[] {
  return [...roles].sort((a, b) => roleLabel(a, lang).localeCompare(roleLabel(b, lang), lang));
}

export const officeMembers = (role: AdminRole): RoleMember[] => role.members.filter((m) => m.subject_id === null);

export const subjectMembers = (role: AdminRole, subjectId: string): RoleMember[] =>
  role.members.filter((m) => m.subject_id === subjectId);

/** The subjects that have members of their own in any role, by key (the overview's links). */
export function subjectsWithOwnMembers(roles: AdminRole[]): SubjectRef[] {
  const found = new Map<string, SubjectRef>();
  for (const role of roles) for (const m of role.members) if (m.subject) found.set(m.subject.id, m.subject);
  return [...found.values()].sort((a, b) => a.type.localeCompare(b.type) || a.key.localeCompare(b.key));
}

export interface Holding {
  role: AdminRole;
  office: RoleMember[];
  own: RoleMember[];
  /** Who gets the subject's work: its own members when it has any, else the office's. */
  effective: RoleMember[];
}

/** Per role, who holds it for one subject: its own active members take over from the
 * office's, as the runtime resolves a task's candidates (runtime/roles.py). */
export function holdingsFor(roles: AdminRole[], subjectId: string): Holding[] {
  return roles.map((role) => {
    const office = officeMembers(role);
    const own = subjectMembers(role, subjectId);
    const ownActive = own.filter((m) => m.active);
    return { role, office, own, effective: ownActive.length ? ownActive : office.filter((m) => m.active) };
  });
}

export function subjectTitle(subject: SubjectRef): string {
  return subject.name ? `${subject.key} · ${subject.name}` : subject.key;
}
