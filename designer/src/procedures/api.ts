// The worksheet (P4) and a debtor's procedures (P6): /worksheet and /procedures (docs/api.md).
import { request } from "../api";

export const ACTIONS = ["email", "letter", "call", "handover", "status"] as const;
export type ActionKind = (typeof ACTIONS)[number];
export type SheetState = "proposed" | "postponed" | "done";

export interface SheetItem {
  task_id: string;
  instance_id: string;
  subject_id: string;
  subject_key: string;
  subject_name: string;
  flow_key: string;
  flow_name: string;
  node_id: string;
  action: ActionKind;
  title: string;
  role: string | null;
  assignee: string | null;
  created_at: string;
  status: string;
  outcome: string | null;
  completed_by: string | null;
  completed_at: string | null;
  postponed_until: string | null;
  undone_at: string | null;
  can_undo: boolean;
}

export interface SheetResult {
  task_id: string;
  outcome: "performed" | "skipped" | "postponed" | "already_done" | "refused";
  detail: string;
}

export interface SheetFilter {
  state: SheetState;
  role?: string;
  user?: string;
  action?: ActionKind | "";
}

export interface Fact { name: string; value: unknown }
export interface Reason { text: string; holds: boolean; facts: Fact[]; what: string }
export interface Step {
  at: string;
  day: string;
  dip: number | null;
  kind: string;
  node_id: string | null;
  label: string;
  actor: string;
  port: string | null;
  reason: string | null;
  data: Record<string, unknown>;
  dip_working: number | null;
}
export interface Position {
  node_id: string;
  label: string;
  node_type: string;
  since: string;
  next_look: string | null;
  proposal: string | null;
  postponed_until: string | null;
  reasons: Reason[];
}
export interface ProcedureRun {
  instance_id: string;
  flow_key: string;
  flow_name: string;
  version: number;
  kind: "primary" | "secondary" | "";
  status: string;
  started_at: string;
  ended_at: string | null;
  steps: Step[];
  current: Position[];
  /** "working" when its waits count working days: its steps show dip_working. */
  counts: "calendar" | "working";
}
export interface Timeline {
  subject_id: string;
  type: string;
  key: string;
  name: string;
  today: string;
  dip: number | null;
  leading: { number: string; due_date: string; open_amount: string; currency: string } | null;
  procedures: ProcedureRun[];
  why_not: Reason[];
  dip_working: number | null;
}

function query(filter: SheetFilter): string {
  const params = new URLSearchParams({ state: filter.state, limit: "500" });
  if (filter.role) params.set("role", filter.role);
  if (filter.user) params.set("user", filter.user);
  if (filter.action) params.set("action", filter.action);
  return params.toString();
}

export const proceduresApi = {
  worksheet: async (filter: SheetFilter) => (await request<SheetItem[]>(`/worksheet?${query(filter)}`)).data,
  process: async (tasks: string[]) =>
    (await request<SheetResult[]>("/worksheet/process", { method: "POST", body: { tasks } })).data,
  skip: async (tasks: string[], reason: string) =>
    (await request<SheetResult[]>("/worksheet/skip", { method: "POST", body: { tasks, reason } })).data,
  postpone: async (tasks: string[], until: string) =>
    (await request<SheetResult[]>("/worksheet/postpone", { method: "POST", body: { tasks, until } })).data,
  undo: async (task: string) =>
    (await request<{ task_id: string; undone: string }>(`/worksheet/${task}/undo`, { method: "POST" })).data,
  timeline: async (subjectId: string) => (await request<Timeline>(`/procedures/subjects/${subjectId}`)).data,
};
