// The lists pickers offer, each read once per page load (a role added meanwhile shows
// after a reload; a value typed by hand is kept either way).
import { api } from "../../api";
import { loadSubjectType } from "../../catalogue";
import type { PickerKind, PickerSources } from "./choices";

const cache = new Map<string, Promise<unknown>>();
function once<T>(key: string, load: () => Promise<T>): Promise<T | undefined> {
  if (!cache.has(key)) cache.set(key, load().catch(() => undefined));
  return cache.get(key) as Promise<T | undefined>;
}

/** The sources one picker needs; a list the caller may not read (users, for a designer) stays undefined. */
export async function loadSources(kind: PickerKind, subjectType: string): Promise<PickerSources> {
  const out: PickerSources = {};
  if (kind === "role") out.roles = await once("roles", () => api.roles());
  if (kind === "user") out.users = await once("users", () => api.users());
  if (kind === "template") out.templates = await once("templates", () => api.templates());
  if (subjectType) out.subjectType = (await loadSubjectType(subjectType)) as PickerSources["subjectType"];
  return out;
}
