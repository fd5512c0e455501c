// Shapes of the subject API (docs/api.md: /subjects, /subject-types, start-bulk).
import type { Labels, SubjectField } from "../types";
import type { HistoryEntry } from "../history/describe";

export interface Subject {
  id: string;
  type: string;
  key: string;
  status: string;
  fields: Record<string, unknown>;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface SubjectFieldInfo extends SubjectField {
  label: Labels;
  computed?: boolean;
}

export interface SubjectTypeInfo {
  name: string;
  label: Labels;
  fields: SubjectFieldInfo[];
  statuses?: string[];
}

export interface SubjectPage {
  rows: Subject[];
  /** every subject the filters select; null when the server did not count (a search) */
  total: number | null;
}

export interface TimelineInstance {
  id: string;
  flow: string;
  version: number;
  status: string;
  started_at: string;
  ended_at: string | null;
  history: HistoryEntry[];
}

export interface BulkReport {
  flow: string;
  version: number;
  period: string | null;
  started: { subject_id: string; key: string; instance_id: string }[];
  refused: { subject_id: string; key: string; reason: string }[];
}

export interface SubjectFacts {
  today: string;
  facts: Record<string, unknown>;
}

export interface RoleMember {
  email: string;
  name: string;
  subject_id: string | null;
}

export interface RoleInfo {
  name: string;
  label: string;
  labels: Partial<Labels>;
  members: RoleMember[];
}

export interface Payment {
  id: string;
  status: string;
  amount: string;
  currency: string;
  paid_on: string;
  open_item: string | null;
  remittance: string;
}

export interface OpenItem {
  id: string;
  kind: "invoice" | "credit_note" | string;
  number: string;
  issue_date: string;
  due_date: string;
  amount: string;
  open_amount: string;
  currency: string;
  status: string;
}
