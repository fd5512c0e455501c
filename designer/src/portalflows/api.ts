// The staff's view of a debtor's promises to pay and payment arrangements (portal M3, M5).
import { request } from "../api";

export interface Instalment {
  number: number;
  due_date: string;
  amount: string;
  paid_amount: string;
  paid_at: string | null;
}

export type ArrangementStatus = "review" | "active" | "broken" | "completed" | "replaced" | "declined";
export type PromiseStatus = "active" | "kept" | "broken" | "replaced";

export interface Arrangement {
  id: string;
  status: ArrangementStatus;
  amount: string;
  currency: string;
  open_items: string[];
  exceeded: string[];
  created_at: string;
  ended_at: string | null;
  instalments: Instalment[];
  // Staff's decision on one that was in review.
  decided_at?: string | null;
  decided_by?: string | null;
  decision_reason?: string | null;
}

export interface PaymentPromise {
  id: string;
  status: PromiseStatus;
  pay_on: string;
  check_on: string;
  amount: string;
  currency: string;
  open_items: string[];
  created_at: string;
  ended_at: string | null;
}

export interface DebtorPlans {
  promises: PaymentPromise[];
  arrangements: Arrangement[];
}

export async function debtorPlans(subjectId: string): Promise<DebtorPlans> {
  return (await request<DebtorPlans>(`/portal/debtors/${encodeURIComponent(subjectId)}/plans`)).data;
}
