// Staff's view of what the office asked a client and what came back (K3, K4): GET /clients/{id}/requests.
import { BASE, request } from "../api";

export interface RequestItem {
  id: string;
  kind: "document" | "field";
  label: string;
  mandatory: boolean;
}

export interface ReceivedFile {
  id: string;
  item_id: string;
  filename: string;
  content_type: string;
  size: number;
  uploaded_at: string;
}

export interface ClientRequest {
  id: string;
  kind: "documents" | "filing";
  title: string;
  status: "open" | "complete" | "overdue" | "approved" | "declined" | "informed";
  instance_id: string | null;
  node_id: string;
  items: RequestItem[];
  answers: Record<string, { value: string; at: string }>;
  files: ReceivedFile[];
  contact_email: string;
  contact_name: string;
  mode: string;
  on_behalf_of: string;
  reminders: number;
  deadline_at: string | null;
  created_at: string;
  closed_at: string | null;
  decided_by: string;
  decided_at: string | null;
  reason: string;
  submission: { provider?: string; reference?: string; status?: string; at?: string };
}

export async function clientRequests(subjectId: string): Promise<ClientRequest[]> {
  return (await request<ClientRequest[]>(`/clients/${subjectId}/requests`)).data;
}

export function fileUrl(subjectId: string, fileId: string): string {
  return `${BASE}/clients/${subjectId}/files/${fileId}`;
}

/** An ad hoc request (outside any flow): POST /clients/{id}/requests. */
export interface AskItem {
  label: string;
  kind: "document" | "field";
  mandatory: boolean;
}

export interface Ask {
  title: string;
  items: AskItem[];
  message: string;
  due_on: string | null;
  reminder_days: number;
}

export async function askClient(subjectId: string, ask: Ask): Promise<ClientRequest> {
  return (await request<ClientRequest>(`/clients/${subjectId}/requests`, { method: "POST", body: ask })).data;
}
