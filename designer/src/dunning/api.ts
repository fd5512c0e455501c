// The approval list (D4) and typed tasks (D2): GET /approvals, POST /approvals/decide,
// and the inbox narrowed by task type (docs/api.md).
import { request } from "../api";
import type { WorkTask } from "../types";

/** assign_role's task types, as the server stores them on the task. */
export const TASK_TYPES = ["general", "phone_call", "lawyer_handover", "approval"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** One thing approving would let out, as it would go out now. */
export interface ProposedAction {
  kind: "email" | "letter" | "set_field" | "increment" | "status" | "task";
  node: string;
  to?: string[];
  subject?: string;
  /** HTML as it would be sent (rendered by the server's sandboxed templates). */
  body?: string;
  template?: string;
  field?: string;
  value?: unknown;
}

export interface Approval {
  task: Omit<WorkTask, "subject"> & {
    kind: string;
    outcomes: { port: string; label: string }[];
    subject: WorkTask["subject"] & { fields: Record<string, unknown> };
  };
  flow: { key: string; name: string };
  actions: ProposedAction[];
}

export interface Decided {
  decided: number;
  decision: "approve" | "reject";
}

export const dunningApi = {
  approvals: async (limit = 200) => (await request<Approval[]>(`/approvals?limit=${limit}`)).data,
  decide: async (tasks: string[], decision: "approve" | "reject") =>
    (await request<Decided>("/approvals/decide", { method: "POST", body: { tasks, decision } })).data,
  /** The inbox's tasks, only those of one type when `type` is set. */
  inbox: async (scope: string, type: TaskType | "") => {
    // A role's inbox in a busy office holds more than the API's default page of 50.
    const query = new URLSearchParams({ scope, status: "open", limit: "200" });
    if (type) query.set("type", type);
    return (await request<unknown>(`/tasks?${query}`)).data;
  },
};
