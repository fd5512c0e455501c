// Shapes of the flow format (procedo.flow/1) and of the HTTP API (docs/api.md).

export type Lang = "en" | "nl" | "de";
export type Labels = Record<Lang, string>;
// A flow's name per UI language (D6); a language left out shows its name.
export type FlowLabels = Partial<Record<Lang, string>>;

export interface Position {
  x: number;
  y: number;
}

export interface FlowNode {
  id: string;
  type: string;
  label?: string;
  params?: Record<string, unknown>;
  position?: Position | null;
}

export interface FlowEdge {
  id: string;
  source: string;
  source_port: string;
  target: string;
}

export interface Flow {
  format: string;
  key: string;
  name: string;
  labels?: FlowLabels | null;
  description?: string;
  subject_type: string;
  trigger?: Record<string, unknown>;
  stop_when?: Rule | null;
  nodes: FlowNode[];
  edges: FlowEdge[];
  [extra: string]: unknown;
}

export interface PortInfo {
  name: string;
  label: Labels;
  optional?: boolean;
}

export interface NodeTypeInfo {
  type: string;
  labels: Labels;
  description: Labels;
  category: string;
  params_schema: JsonSchema;
  ports: PortInfo[];
  ports_help?: Labels | null;
  waits?: boolean | null;
  terminal?: boolean | null;
  input_ports?: string[] | null;
  example?: Record<string, unknown> | null;
  /** the example in nl and de: a new node's texts in its designer's language */
  examples?: Partial<Record<Lang, Record<string, unknown>>>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonSchema = Record<string, any>;

export interface Problem {
  code: string;
  message: string;
  node?: string | null;
  edge?: string | null;
  path?: string | null;
  line?: number | null;
  column?: number | null;
}

/** POST /flows/validate: every problem, and each node's output ports as its type derives them. */
export interface FlowCheck {
  problems: Problem[];
  ports: Record<string, PortInfo[]>;
}

/** POST /rules/parse: the tree and its canonical text, or a `rule.syntax` problem with its place. */
export interface RuleParse {
  rule: Rule | null;
  text: string | null;
  problems: Problem[];
}

// ---- rules (backend/procedo/rules/model.py)
export type ScalarValue =
  | { type: "decimal"; value: string }
  | { type: "date"; value: string }
  | { type: "datetime"; value: string }
  | { type: "string"; value: string }
  | { type: "bool"; value: boolean };
export type Value = ScalarValue | { type: "list"; items: ScalarValue[] };
export type CompareOp =
  | "="
  | "!="
  | "<"
  | ">"
  | "<="
  | ">="
  | "contains"
  | "in"
  | "between"
  | "is_empty"
  | "is_set";
export type Rule =
  | { kind: "all"; rules: Rule[] }
  | { kind: "any"; rules: Rule[] }
  | { kind: "not"; rule: Rule }
  | { kind: "compare"; field: string; op: CompareOp; value?: Value | null };

// ---- API
export interface User {
  email: string;
  name: string;
  access: "admin" | "designer" | "member" | "partner" | string;
  tenant: string;
}

export interface FlowSummary {
  key: string;
  name: string;
  labels?: FlowLabels | null;
  latest_version: number | null;
  has_draft: boolean;
  open_instances: number;
  updated_at: string | null;
  updated_by: string | null;
}

export interface FlowRecord {
  key: string;
  name: string;
  draft: Flow;
  revision: number | string;
  latest_version: number | null;
  has_draft?: boolean;
  updated_at: string | null;
  updated_by: string | null;
}

export interface VersionInfo {
  number: number;
  published_at: string;
  published_by: string | null;
}

export interface SubjectField {
  name: string;
  type: string;
  label?: Labels | string;
  [extra: string]: unknown;
}

// ---- operations: schedules, outbox, settings (docs/api.md)
export interface Schedule {
  flow: string;
  name: string;
  version: number;
  every: "day" | "week" | "month" | string;
  interval: number;
  weekday: string | null;
  day_of_month: number | null;
  at: string;
  timezone: string | null;
  zone: string; // where `at` is read: the trigger's time zone, else the tenant's
  active: boolean;
  next_run_at: string;
  last_run_at: string | null;
  failures: number;
  last_error: string | null;
  last_error_at: string | null;
  last_selected?: number | null;
  last_started?: number | null;
}

export interface RunNowResult {
  message: string;
  ran: boolean;
  selected: number;
  started: number;
  error: string | null;
  schedule: Schedule;
}

export type OutboxState = "queued" | "sent" | "failed" | "ready";
export interface OutboxItem {
  id: string;
  kind: "email" | "letter" | string;
  status: OutboxState;
  recipients: string[];
  subject: string;
  template: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  sent_at: string | null;
  instance_id: string | null;
  flow: string | null;
  flow_name: string | null;
  subject_id: string | null;
  subject_key: string | null;
  subject_type: string | null;
}
export interface OutboxMessage extends OutboxItem {
  body: string;
  text: string;
}

export type MailSecurity = "starttls" | "tls" | "none";
export interface EmailSettings {
  configured: boolean;
  host?: string | null;
  port?: number | null;
  security?: MailSecurity | null;
  username?: string | null;
  password_set: boolean;
  sender_address?: string | null;
  sender_name: string;
  reply_to?: string | null;
  default_language: Lang;
  updated_at?: string | null;
  updated_by?: string | null;
}
export interface EmailSettingsInput {
  host: string;
  port: number;
  security: MailSecurity;
  username?: string | null;
  password?: string | null; // left out: the stored one is kept
  sender_address: string;
  sender_name: string;
  reply_to?: string | null;
  default_language?: Lang | null;
}
/** GET/PUT /settings/calendar: the office's time zone, country and closing days (admins). */
export interface ClosingDay {
  date: string; // YYYY-MM-DD
  name: string; // may be ""
}
export interface CalendarSettings {
  timezone: string;
  country: string;
  closing_days: ClosingDay[]; // by date
  // The country's public holidays from today to a year ahead, named in the asked language.
  public_holidays: ClosingDay[];
  countries: { code: string; name: string }[];
  timezones: string[];
}
export interface CalendarSettingsInput {
  timezone: string;
  country: string;
  closing_days: ClosingDay[];
}
export interface MailTestResult {
  ok: boolean;
  outcome: string;
  detail: string;
  smtp_code?: number | null;
  server: string;
  to: string;
}

export type PortalReaction = "copy" | "paid" | "arrangement" | "promise";
export interface PortalSettings {
  reactions: PortalReaction[];
  max_instalments: number;
  min_instalment_amount: string;
  max_term_days: number;
  promise_grace_days: number;
  // After a promise not kept: a task for staff, or the standard dunning goes on.
  broken_promise?: "task" | "continue";
  link_days: number;
  texts: Partial<Record<Lang, { intro?: string; new_link?: string }>>;
  updated_at?: string | null;
  updated_by?: string;
}

export interface TemplateText {
  subject: string;
  html: string;
  text?: string;
}
export interface TemplateSummary {
  name: string;
  subject_type: string;
  description: string;
  languages: Lang[];
  updated_at: string;
  updated_by: string;
}
export interface MessageTemplate extends TemplateSummary {
  texts: Partial<Record<Lang, TemplateText>>;
}
export interface RenderedTemplate {
  name: string;
  language: Lang;
  subject: string;
  html: string;
  text: string;
}

// ---- work: all tasks, instances (docs/api.md)
export interface WorkTask {
  id: string;
  instance_id: string;
  node: string;
  title: string;
  role: string | null;
  assignee: string | null;
  candidates: string[];
  status: string;
  due: string | null;
  overdue: boolean;
  created_at: string;
  subject: { id: string; type: string; key: string; status: string };
  /** general, phone_call, lawyer_handover, approval (assign_role's task type) */
  kind?: string;
}
export interface InstanceSummary {
  id: string;
  flow: string;
  version: number;
  subject_id: string;
  subject_key: string;
  status: string;
  positions: string[];
  started_at: string;
  updated_at: string;
  error?: string | null;
  failed_node?: string | null;
}
export interface InstanceDetail extends Omit<InstanceSummary, "subject_id" | "subject_key"> {
  subject: { id: string; type: string; key: string; status: string };
  error: string | null;
  ended_at: string | null;
}
/** A role or a person to give tasks to (GET /roles, GET /users). */
export interface RoleChoice {
  name: string;
  label: string;
  labels?: Partial<Record<Lang, string>>;
}
export interface PersonChoice {
  email: string;
  name?: string | null;
  access: string;
}

// ---- roles and users (admin; backend/procedo/api/resources/roles.py, users.py)
export interface SubjectRef {
  id: string;
  type: string;
  key: string;
  name: string;
}

export interface RoleMember {
  email: string;
  name: string;
  subject_id: string | null;
  subject: SubjectRef | null;
  /** A deactivated user stays a member but gets no work. */
  active: boolean;
}

export interface AdminRole {
  name: string;
  label: string;
  members: RoleMember[];
  /** A standard role's label per language; {} for the office's own roles. */
  labels: Partial<Labels>;
}

export interface RoleChanged {
  name: string;
  label: string;
  drafts_updated: string[];
  to_publish: string[];
}

export type Access = "admin" | "designer" | "member" | "partner";

export interface UserRow {
  id: string;
  email: string;
  name: string;
  access: Access;
  active: boolean;
  created_at: string;
  roles: string[];
  subject_roles: number;
}

// ---- letters (docs/messages.md)
export interface LetterSummary {
  id: string;
  subject_key: string | null;
  subject_id: string | null;
  instance_id: string | null;
  title: string;
  status: "ready" | "sent" | string;
  batch_id: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface PrintBatch {
  id: string;
  letters: number;
  created_at: string;
  created_by: string;
  printed_at: string | null;
  printed_by: string | null;
}
