// The HTTP API client (docs/api.md): same origin, session cookie, CSRF header on unsafe requests.
import type {
  Access,
  LetterSummary,
  PrintBatch,
  AdminRole,
  RoleChanged,
  RoleMember,
  SubjectRef,
  UserRow,
  FlowCheck,
  RuleParse,
  CalendarSettings,
  CalendarSettingsInput,
  EmailSettings,
  EmailSettingsInput,
  Flow,
  FlowRecord,
  FlowSummary,
  InstanceDetail,
  InstanceSummary,
  Lang,
  MailTestResult,
  MessageTemplate,
  NodeTypeInfo,
  PersonChoice,
  OutboxItem,
  OutboxMessage,
  PortalSettings,
  Problem,
  RenderedTemplate,
  RoleChoice,
  Rule,
  RunNowResult,
  Schedule,
  TemplateSummary,
  User,
  VersionInfo,
  WorkTask,
} from "./types";
import type { BulkReport, OpenItem, Payment, RoleInfo, Subject, SubjectFacts, SubjectPage, SubjectTypeInfo, TimelineInstance } from "./subjects/model";

export const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(
    public status: number,
    public detail: string,
    public problems: Problem[] = [],
    public body: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

function csrf(): string {
  const match = document.cookie.split("; ").find((c) => c.startsWith("procedo_csrf="));
  return match ? decodeURIComponent(match.slice("procedo_csrf=".length)) : "";
}

let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  raw?: BodyInit;
  contentType?: string;
  headers?: Record<string, string>;
  quiet401?: boolean;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<{ data: T; response: Response }> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json", ...(options.headers ?? {}) };
  let body: BodyInit | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    if (options.contentType) headers["Content-Type"] = options.contentType;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  if (!["GET", "HEAD", "OPTIONS"].includes(method)) headers["X-CSRF-Token"] = csrf();
  const response = await fetch(BASE + path, { method, headers, body, credentials: "same-origin" });
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const obj = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
    if (response.status === 401 && !options.quiet401 && onUnauthorized) onUnauthorized();
    throw new ApiError(
      response.status,
      typeof obj.detail === "string" ? obj.detail : `${response.status} ${response.statusText}`,
      Array.isArray(obj.problems) ? (obj.problems as Problem[]) : [],
      obj,
    );
  }
  return { data: data as T, response };
}

async function get<T>(path: string): Promise<T> {
  return (await request<T>(path)).data;
}

/** Every row of a paged list: the server answers at most `pageSize` rows a request. */
export async function getAll<T>(path: string, pageSize = 1000): Promise<T[]> {
  const rows: T[] = [];
  const joiner = path.includes("?") ? "&" : "?";
  for (let offset = 0; ; offset += pageSize) {
    const page = await get<T[]>(`${path}${joiner}limit=${pageSize}&offset=${offset}`);
    rows.push(...page);
    if (page.length < pageSize) return rows;
  }
}

export const api = {
  login: (tenant: string, email: string, password: string) =>
    request<{ user: User }>("/auth/login", { method: "POST", body: { tenant, email, password }, quiet401: true }).then(
      (r) => r.data.user,
    ),
  logout: () => request("/auth/logout", { method: "POST" }),
  me: async (): Promise<User | null> => {
    try {
      const { data } = await request<User | { user: User }>("/auth/me", { quiet401: true });
      return data && "user" in data ? data.user : (data as User);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return null;
      throw e;
    }
  },
  nodeTypes: () => get<NodeTypeInfo[]>("/node-types"),
  subjectTypes: () => get<unknown>("/subject-types"),
  subjectType: (name: string) => get<Record<string, unknown>>(`/subject-types/${encodeURIComponent(name)}`),
  // subjects (pages/Subjects.tsx, pages/Subject.tsx)
  subjectTypeList: () => get<SubjectTypeInfo[]>("/subject-types"),
  subjects: async (params: Record<string, string>): Promise<SubjectPage> => {
    const { data, response } = await request<Subject[]>(`/subjects?${new URLSearchParams(params)}`);
    const total = response.headers.get("X-Total-Count");
    return { rows: data, total: total === null ? null : Number(total) };
  },
  subject: (id: string) => get<Subject>(`/subjects/${encodeURIComponent(id)}`),
  subjectFacts: (id: string) => get<SubjectFacts>(`/subjects/${encodeURIComponent(id)}/facts`),
  subjectTimeline: (id: string) => get<TimelineInstance[]>(`/subjects/${encodeURIComponent(id)}/timeline`),
  debtorPayments: (id: string) => get<Payment[]>(`/payments?${new URLSearchParams({ debtor: id })}`),
  openItems: (id: string) => get<OpenItem[]>(`/subjects/${encodeURIComponent(id)}/open-items`),
  startBulk: (flow: string, body: { subject_ids: string[]; period?: string; test?: boolean }) =>
    request<BulkReport>(`/flows/${encodeURIComponent(flow)}/start-bulk`, { method: "POST", body }).then((r) => r.data),
  rolesWithMembers: () => getAll<RoleInfo>("/roles", 100),
  userEmails: () => getAll<{ email: string; name: string }>("/users"),
  addRoleMember: (role: string, email: string, subject_id: string) =>
    request(`/roles/${encodeURIComponent(role)}/members`, { method: "POST", body: { email, subject_id } }),
  removeRoleMember: (role: string, email: string, subject_id: string) =>
    request(`/roles/${encodeURIComponent(role)}/members?${new URLSearchParams({ email, subject_id })}`, { method: "DELETE" }),
  flows: () => getAll<FlowSummary>("/flows"),
  flow: async (key: string) => {
    const { data, response } = await request<FlowRecord>(`/flows/${encodeURIComponent(key)}`);
    return { ...data, etag: response.headers.get("ETag") ?? `"${data.revision}"` };
  },
  createFlow: (flow: Flow) => request<FlowRecord>("/flows", { method: "POST", body: flow }).then((r) => r.data),
  saveDraft: async (key: string, flow: Flow, etag: string) => {
    const { data, response } = await request<FlowRecord>(`/flows/${encodeURIComponent(key)}/draft`, {
      method: "PUT",
      body: flow,
      headers: { "If-Match": etag },
    });
    return { data, etag: response.headers.get("ETag") ?? (data?.revision !== undefined ? `"${data.revision}"` : etag) };
  },
  deleteFlow: (key: string) => request(`/flows/${encodeURIComponent(key)}`, { method: "DELETE" }),
  duplicate: (key: string, newKey: string, name: string) =>
    request<FlowRecord>(`/flows/${encodeURIComponent(key)}/duplicate`, { method: "POST", body: { key: newKey, name } }).then(
      (r) => r.data,
    ),
  validate: (flow: Flow) =>
    request<{ problems: Problem[] }>("/flows/validate", { method: "POST", body: flow }).then((r) => r.data.problems ?? []),
  // the problems and each node's ports as the server derives them (flow/ports.ts)
  checkFlow: (flow: Flow) =>
    request<Partial<FlowCheck>>("/flows/validate", { method: "POST", body: flow }).then((r): FlowCheck => ({ problems: r.data.problems ?? [], ports: r.data.ports ?? {} })),
  // the one rule parser: procedo.rules.text on the server (components/RuleBuilder.tsx)
  parseRule: (text: string, subject_type?: string) =>
    request<RuleParse>("/rules/parse", { method: "POST", body: subject_type ? { text, subject_type } : { text } }).then((r) => r.data),
  formatRule: (rule: Rule) => request<{ text: string }>("/rules/format", { method: "POST", body: { rule } }).then((r) => r.data.text),
  publish: (key: string) =>
    request<VersionInfo>(`/flows/${encodeURIComponent(key)}/publish`, { method: "POST", body: {} }).then((r) => r.data),
  versions: (key: string) => get<VersionInfo[]>(`/flows/${encodeURIComponent(key)}/versions`),
  version: (key: string, n: number) => get<Flow | { document?: Flow; flow?: Flow }>(`/flows/${encodeURIComponent(key)}/versions/${n}`),
  counts: (key: string, n: number) => get<Record<string, number>>(`/flows/${encodeURIComponent(key)}/versions/${n}/counts`),
  exportText: async (key: string, version?: number) => {
    const query = version ? `?version=${version}` : "";
    const response = await fetch(`${BASE}/flows/${encodeURIComponent(key)}/export${query}`, { credentials: "same-origin" });
    const text = await response.text();
    if (!response.ok) {
      let detail = text;
      try {
        detail = JSON.parse(text).detail ?? text;
      } catch {
        /* text */
      }
      throw new ApiError(response.status, detail);
    }
    return text;
  },
  importFlow: (text: string) =>
    request<FlowRecord>("/flows/import", { method: "POST", raw: text, contentType: "application/json" }).then((r) => r.data),
  matchRule: (subject_type: string, rule: Rule) =>
    request<{ matched: number; total: number }>("/rules/match", { method: "POST", body: { subject_type, rule } }).then(
      (r) => r.data,
    ),
  instances: (params: Record<string, string>) => get<unknown>(`/instances?${new URLSearchParams(params)}`),
  instance: (id: string) => get<Record<string, unknown>>(`/instances/${encodeURIComponent(id)}`),
  history: (id: string) => get<unknown>(`/instances/${encodeURIComponent(id)}/history`),
  move: (id: string, to_node: string, reason: string) =>
    request(`/instances/${encodeURIComponent(id)}/move`, { method: "POST", body: { to_node, reason } }),
  tasks: (scope: string) => get<unknown>(`/tasks?scope=${scope}&status=open`),
  claim: (id: string) => request(`/tasks/${encodeURIComponent(id)}/claim`, { method: "POST", body: {} }),
  complete: (id: string, outcome: string, checkpoints: string[]) =>
    request(`/tasks/${encodeURIComponent(id)}/complete`, { method: "POST", body: { outcome, checkpoints } }),
  // roles and users (admin)
  roles: () => getAll<AdminRole>("/roles"),
  createRole: (name: string, label: string) => request<AdminRole>("/roles", { method: "POST", body: { name, label } }).then((r) => r.data),
  changeRole: (name: string, change: { name?: string; label?: string }) =>
    request<RoleChanged>(`/roles/${encodeURIComponent(name)}`, { method: "PATCH", body: change }).then((r) => r.data),
  deleteRole: (name: string) => request(`/roles/${encodeURIComponent(name)}`, { method: "DELETE" }),
  roleUse: (name: string) => get<{ flows: string[]; open_tasks: number }>(`/roles/${encodeURIComponent(name)}/use`),
  addMember: (role: string, email: string, subject_id?: string) =>
    request<RoleMember[]>(`/roles/${encodeURIComponent(role)}/members`, { method: "POST", body: subject_id ? { email, subject_id } : { email } }).then((r) => r.data),
  removeMember: (role: string, email: string, subject_id?: string) =>
    request(`/roles/${encodeURIComponent(role)}/members?${new URLSearchParams(subject_id ? { email, subject_id } : { email })}`, { method: "DELETE" }),
  findSubjects: (q: string) => get<SubjectRef[]>(`/roles/subjects?${new URLSearchParams({ q })}`),
  users: () => getAll<UserRow>("/users"),
  addUser: (email: string, name: string, access: Access) =>
    request<{ user: UserRow; password: string }>("/users", { method: "POST", body: { email, name, access } }).then((r) => r.data),
  changeUser: (id: string, change: { name?: string; access?: Access; active?: boolean }) =>
    request<UserRow>(`/users/${encodeURIComponent(id)}`, { method: "PATCH", body: change }).then((r) => r.data),
  resetPassword: (id: string) =>
    request<{ user: UserRow; password: string }>(`/users/${encodeURIComponent(id)}/password-reset`, { method: "POST" }).then((r) => r.data),
  // work: everyone's tasks, instances across flows
  allTasks: (query: URLSearchParams) => get<WorkTask[]>(`/tasks?${query}`),
  reassignTask: (id: string, to: { user: string } | { role: string }, reason: string) =>
    request<WorkTask>(`/tasks/${encodeURIComponent(id)}/reassign`, { method: "POST", body: { ...to, ...(reason ? { reason } : {}) } }).then(
      (r) => r.data,
    ),
  instanceList: (params: Record<string, string>) => get<InstanceSummary[]>(`/instances?${new URLSearchParams(params)}`),
  retryInstance: (id: string, onVersion?: number) =>
    request<InstanceDetail>(`/instances/${encodeURIComponent(id)}/retry`, {
      method: "POST",
      body: onVersion === undefined ? undefined : { version: onVersion },
    }).then((r) => r.data),
  cancelInstance: (id: string, reason: string) =>
    request<InstanceDetail>(`/instances/${encodeURIComponent(id)}/cancel`, { method: "POST", body: { reason } }).then((r) => r.data),
  roleChoices: () => getAll<RoleChoice>("/roles"),
  personChoices: () => getAll<PersonChoice>("/users"),
  // operations: schedules, outbox, settings, templates
  schedules: () => getAll<Schedule>("/schedules"),
  runSchedule: (key: string) =>
    request<RunNowResult>(`/schedules/${encodeURIComponent(key)}/run`, { method: "POST" }).then((r) => r.data),
  setScheduleActive: (key: string, active: boolean) =>
    request<Schedule>(`/schedules/${encodeURIComponent(key)}/${active ? "activate" : "deactivate"}`, { method: "POST" }).then(
      (r) => r.data,
    ),
  outbox: (params: Record<string, string>) => get<OutboxItem[]>(`/outbox?${new URLSearchParams(params)}`),
  outboxMessage: (id: string) => get<OutboxMessage>(`/outbox/${encodeURIComponent(id)}`),
  letters: (params: Record<string, string>) => get<LetterSummary[]>(`/letters?${new URLSearchParams(params)}`),
  printBatches: () => get<PrintBatch[]>("/letters/batches"),
  createPrintBatch: () => request<PrintBatch>("/letters/batches", { method: "POST" }).then((r) => r.data),
  markPrinted: (id: string) =>
    request<PrintBatch>(`/letters/batches/${encodeURIComponent(id)}/printed`, { method: "POST" }).then((r) => r.data),
  resend: (id: string) => request<OutboxMessage>(`/outbox/${encodeURIComponent(id)}/resend`, { method: "POST" }).then((r) => r.data),
  emailSettings: () => get<EmailSettings>("/settings/email"),
  saveEmailSettings: (body: EmailSettingsInput) =>
    request<EmailSettings>("/settings/email", { method: "PUT", body }).then((r) => r.data),
  testEmail: (to: string) =>
    request<MailTestResult>("/settings/email/test", { method: "POST", body: to ? { to } : {} }).then((r) => r.data),
  calendarSettings: (lang: Lang) => get<CalendarSettings>(`/settings/calendar?${new URLSearchParams({ lang })}`),
  saveCalendarSettings: (body: CalendarSettingsInput, lang: Lang) =>
    request<CalendarSettings>(`/settings/calendar?${new URLSearchParams({ lang })}`, { method: "PUT", body }).then((r) => r.data),
  portalSettings: () => get<PortalSettings>("/portal/settings"),
  savePortalSettings: (body: PortalSettings) =>
    request<PortalSettings>("/portal/settings", { method: "PUT", body }).then((r) => r.data),
  templates: () => getAll<TemplateSummary>("/templates"),
  template: (name: string) => get<MessageTemplate>(`/templates/${encodeURIComponent(name)}`),
  createTemplate: (body: Pick<MessageTemplate, "name" | "subject_type" | "description" | "texts">) =>
    request<MessageTemplate>("/templates", { method: "POST", body }).then((r) => r.data),
  saveTemplate: (name: string, body: Pick<MessageTemplate, "subject_type" | "description" | "texts">) =>
    request<MessageTemplate>(`/templates/${encodeURIComponent(name)}`, { method: "PUT", body }).then((r) => r.data),
  previewTemplate: (name: string, subject_id: string, language: Lang) =>
    request<RenderedTemplate>(`/templates/${encodeURIComponent(name)}/preview`, { method: "POST", body: { subject_id, language } }).then(
      (r) => r.data,
    ),
  sampleSubjects: (type: string) => get<{ id: string; key: string }[]>(`/subjects?${new URLSearchParams({ type, limit: "50" })}`),
};

/** A list answer, whether the server sends a bare list or {items: [...]}-style envelope. */
export function asList<T>(data: unknown, ...keys: string[]): T[] {
  if (Array.isArray(data)) return data as T[];
  if (data && typeof data === "object") {
    for (const key of [...keys, "items", "results", "data"]) {
      const value = (data as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as T[];
    }
  }
  return [];
}
