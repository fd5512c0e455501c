// The work screens' pure logic: what a failure means in plain words, how instances and
// tasks are ordered and filtered, and what a bulk action did. No React, no fetching.
import { translate } from "../i18n";
import type { Lang } from "../types";

export type InstanceStatus = "pending" | "running" | "failed" | "cancelled" | "completed";
/** The status filter's choices: "open" is every unfinished one, failed first. */
export type StatusChoice = "open" | InstanceStatus | "all";
export const STATUS_CHOICES: StatusChoice[] = ["open", "failed", "running", "pending", "completed", "cancelled", "all"];
export const OPEN_STATUSES: InstanceStatus[] = ["failed", "running", "pending"];

export interface Explained {
  /** the sentence a person reads, in their language */
  text: string;
  /** the error as the server recorded it, for support */
  code: string;
}

// "TemplateError: node 'mail' $.body: template cannot be rendered: 'dict object' has no attribute 'phone'"
const MISSING_FIELD = /^(\w+): node '([^']+)' \$\.(\w+): template cannot be rendered: .*has no attribute '([^']+)'/;
const TEMPLATE = /^(\w+): node '([^']+)' \$\.(\w+): template cannot be rendered: (.*)$/s;
const KIND = /^(\w+(?:Error|Exception|Refused)): /;

/** A failed instance's error in words; `failedNode` is where it failed (the list says). */
export function explainError(
  error: string | null | undefined,
  failedNode: string | null | undefined,
  nodeLabel: (id: string) => string,
  lang: Lang,
): Explained | null {
  if (!error) return null;
  const missing = MISSING_FIELD.exec(error);
  if (missing) {
    const part = translate(lang, missing[3] === "subject" ? "wPartSubject" : "wPartBody");
    return {
      text: translate(lang, "wErrMissingField", { node: nodeLabel(missing[2]!), part, field: missing[4]! }),
      code: error,
    };
  }
  const template = TEMPLATE.exec(error);
  if (template) {
    return { text: translate(lang, "wErrTemplate", { node: nodeLabel(template[2]!), detail: template[4]! }), code: error };
  }
  const detail = error.replace(KIND, "");
  const text = failedNode
    ? translate(lang, "wErrAtNode", { node: nodeLabel(failedNode), detail })
    : translate(lang, "wErrPlain", { detail });
  return { text, code: error };
}

export interface Ordered {
  status: string;
  updated_at?: string;
  started_at?: string;
}

/** Failed instances first (they need someone), then the most recently changed. */
export function failedFirst<T extends Ordered>(rows: T[]): T[] {
  const rank = (s: string) => (s === "failed" ? 0 : 1);
  return [...rows].sort(
    (a, b) => rank(a.status) - rank(b.status) || (b.updated_at ?? b.started_at ?? "").localeCompare(a.updated_at ?? a.started_at ?? ""),
  );
}

/** Which statuses a choice asks the server for (one request each, "open" failed first). */
export function statusesOf(choice: StatusChoice): (InstanceStatus | null)[] {
  if (choice === "open") return OPEN_STATUSES;
  if (choice === "all") return [null];
  return [choice];
}

export const ENDED = new Set(["completed", "cancelled"]);
export const mayRetry = (status: string) => status === "failed";
export const mayCancel = (status: string) => !ENDED.has(status);

export interface TaskFilters {
  flow: string;
  role: string;
  user: string;
  overdue: boolean;
  /** assign_role's task type (phone_call, ...); empty: every type */
  type?: string;
}

/** GET /tasks parameters for everyone's open tasks, narrowed by the filters set. */
export function taskQuery(filters: TaskFilters, limit: number, offset: number): URLSearchParams {
  const query = new URLSearchParams({ scope: "all", status: "open", limit: String(limit), offset: String(offset) });
  if (filters.flow) query.set("flow", filters.flow);
  if (filters.role) query.set("role", filters.role);
  if (filters.user) query.set("user", filters.user);
  if (filters.overdue) query.set("overdue", "true");
  if (filters.type) query.set("type", filters.type);
  return query;
}

/** Who a task waits for: the person it is given to, else its role. */
export function waitsFor(task: { role: string | null; assignee: string | null }, names: Record<string, string>): string {
  if (task.assignee) return names[task.assignee] ?? task.assignee;
  return task.role ?? "—";
}

export interface BulkResult {
  label: string;
  error?: string;
}

/** One line for a bulk action: how many went through, and which did not and why. */
export function bulkSummary(results: BulkResult[], lang: Lang, done: "wBulkReassigned" | "wBulkRetried" | "wBulkCancelled"): string {
  const failed = results.filter((r) => r.error !== undefined);
  const ok = results.length - failed.length;
  const head = translate(lang, done, { n: ok, total: results.length });
  if (!failed.length) return head;
  return `${head} ${translate(lang, "wBulkNotDone")} ${failed.map((f) => `${f.label}: ${f.error}`).join("; ")}`;
}

/** Run an action on each item in turn (each is its own transaction on the server). */
export async function eachOf<T>(items: T[], label: (item: T) => string, action: (item: T) => Promise<unknown>): Promise<BulkResult[]> {
  const results: BulkResult[] = [];
  for (const item of items) {
    try {
      await action(item);
      results.push({ label: label(item) });
    } catch (e) {
      results.push({ label: label(item), error: e instanceof Error ? e.message : String(e) });
    }
  }
  return results;
}
