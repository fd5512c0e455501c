// The designer's pages by path; anything else is a not-found page, not the flows list.
import { match } from "./router";

export type Route =
  | { page: "home" }
  | { page: "login" }
  | { page: "flows" }
  | { page: "editor"; key: string; version?: number }
  | { page: "running"; key: string }
  | { page: "inbox" }
  | { page: "subjects" }
  | { page: "subject"; id: string }
  | { page: "tasks" }
  | { page: "instances" }
  | { page: "roles" }
  | { page: "users" }
  | { page: "schedules" }
  | { page: "outbox" }
  | { page: "settings" }
  | { page: "worksheet" }
  | { page: "approvals" }
  | { page: "procedures" }
  | { page: "notFound" };

/** Back-office pages without parameters: path -> page. */
const PLAIN = ["subjects", "tasks", "instances", "roles", "users", "schedules", "outbox", "settings", "worksheet", "approvals", "procedures"] as const;

export function route(path: string): Route {
  let params: Record<string, string> | null;
  if (path === "/" || path === "") return { page: "home" };
  if (match("/login", path)) return { page: "login" };
  if (match("/flows", path)) return { page: "flows" };
  if (match("/inbox", path)) return { page: "inbox" };
  for (const page of PLAIN) if (match(`/${page}`, path)) return { page };
  if ((params = match("/subjects/:id", path))) return { page: "subject", id: params.id! };
  if ((params = match("/flows/:key", path))) return { page: "editor", key: params.key! };
  if ((params = match("/flows/:key/versions/:n", path)) && /^[1-9]\d*$/.test(params.n!)) {
    return { page: "editor", key: params.key!, version: Number(params.n) };
  }
  if ((params = match("/running/:key", path))) return { page: "running", key: params.key! };
  return { page: "notFound" };
}
