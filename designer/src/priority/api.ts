// Schedule priority (D5) and run records: the order of scheduled workflows, their runs and
// whom a run acted on or skipped (backend/procedo/api/resources/schedules.py).
import { request } from "../api";
import { translate } from "../i18n";
import type { Lang, RunNowResult, Schedule } from "../types";

export interface OrderedSchedule extends Schedule {
  position: number;
  also_if_acted_on: boolean;
}

export interface RunNowRecord extends RunNowResult {
  run_id: string | null;
}

export interface ScheduleRun {
  id: string;
  version: number;
  slot_at: string;
  ran_at: string;
  manual: boolean;
  selected: number;
  acted: number;
  skipped: number;
}

export type RunOutcome = "acted" | "open" | "earlier" | "repeated" | "refused";

export interface RunSubject {
  subject_id: string;
  key: string;
  name: string;
  outcome: RunOutcome | string;
  by_flow: string | null;
  reason: string | null;
}

export const priorityApi = {
  setOrder: (flows: string[]) =>
    request<OrderedSchedule[]>("/schedules/order", { method: "PUT", body: { flows } }).then((r) => r.data),
  runs: (key: string) => request<ScheduleRun[]>(`/schedules/${encodeURIComponent(key)}/runs`).then((r) => r.data),
  runSubjects: (runId: string, limit = 100) =>
    request<RunSubject[]>(`/schedules/runs/${encodeURIComponent(runId)}/subjects?limit=${limit}`).then((r) => r.data),
};

/** The list with ``moved`` placed at ``to`` (0-based), the others keeping their order. */
export function moved<T>(list: T[], from: number, to: number): T[] {
  if (from === to || from < 0 || to < 0 || from >= list.length || to >= list.length) return list;
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item as T);
  return next;
}

/** Why a run skipped a customer, in the user's language (the server's outcome codes). */
export function skipReason(e: Pick<RunSubject, "outcome" | "by_flow" | "reason">, lang: Lang): string {
  if (e.outcome === "earlier") return translate(lang, "prioSkipEarlier", { flow: e.by_flow ?? "" });
  if (e.outcome === "repeated") return translate(lang, "prioSkipRepeated");
  if (e.outcome === "open") return translate(lang, "prioSkipOpen");
  return translate(lang, "prioSkipRefused", { reason: e.reason ?? "" });
}
