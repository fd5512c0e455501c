// Staff accept (perhaps adjusted) or decline a payment arrangement in review (M5).
import { request } from "../api";
import type { Arrangement } from "./api";

export interface Adjustment {
  instalments?: number;
  first_date?: string;
}

export async function acceptArrangement(id: string, adjustment: Adjustment): Promise<Arrangement> {
  const path = `/portal/arrangements/${encodeURIComponent(id)}/accept`;
  return (await request<Arrangement>(path, { method: "POST", body: adjustment })).data;
}

export async function declineArrangement(id: string, reason: string): Promise<Arrangement> {
  const path = `/portal/arrangements/${encodeURIComponent(id)}/decline`;
  return (await request<Arrangement>(path, { method: "POST", body: { reason } })).data;
}

/** Only what staff changed is sent: an unchanged plan is accepted as the debtor proposed it. */
export function adjustmentOf(arrangement: Arrangement, instalments: string, firstDate: string): Adjustment {
  const out: Adjustment = {};
  const count = Number(instalments);
  if (instalments.trim() !== "" && count !== arrangement.instalments.length) out.instalments = count;
  const first = arrangement.instalments[0]?.due_date ?? "";
  if (firstDate && firstDate !== first) out.first_date = firstDate;
  return out;
}
