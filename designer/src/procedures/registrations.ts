// Procedure registrations (P5): which debtor flows are primary or secondary procedures,
// the primaries' order and the default (backend/procedo/api/resources/procedures.py).
import { request } from "../api";
import type { Rule } from "../types";

export type ProcedureKind = "primary" | "secondary";

export interface Registration {
  flow_key: string;
  kind: ProcedureKind;
  priority: number;
  rule: Rule | null;
  default: boolean;
  updated_at: string;
  updated_by: string;
  name: string;
  version: number | null;
  subject_type: string | null;
  rule_text: string | null;
  stop_when: Rule | null;
  stop_text: string | null;
  running: number;
}

export interface Candidate {
  flow_key: string;
  name: string;
  version: number;
}

export interface RegistrationIn {
  kind: ProcedureKind;
  rule?: Rule | null;
  default?: boolean;
}

const path = (key: string) => `/procedures/${encodeURIComponent(key)}`;

export const registrationsApi = {
  list: async () => (await request<Registration[]>("/procedures")).data,
  candidates: async () => (await request<Candidate[]>("/procedures/candidates")).data,
  save: async (key: string, body: RegistrationIn) =>
    (await request<Registration>(path(key), { method: "PUT", body })).data,
  remove: async (key: string) => {
    await request<null>(path(key), { method: "DELETE" });
  },
  setOrder: async (flows: string[]) =>
    (await request<Registration[]>("/procedures/order", { method: "PUT", body: { flows } })).data,
  setDefault: async (flowKey: string, previousRule: Rule | null) =>
    (await request<Registration[]>("/procedures/default", {
      method: "PUT",
      body: { flow_key: flowKey, previous_rule: previousRule },
    })).data,
};

/** The ruled primaries (their order can change), the default, and the secondaries. */
export function grouped(list: Registration[]) {
  return {
    ordered: list.filter((r) => r.kind === "primary" && !r.default),
    fallback: list.find((r) => r.kind === "primary" && r.default) ?? null,
    secondary: list.filter((r) => r.kind === "secondary"),
  };
}
