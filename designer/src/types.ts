// Shapes of the flow format (procedo.flow/1) and of the HTTP API (docs/api.md).

export type Lang = "en" | "nl" | "de";
export type Labels = Record<Lang, string>;

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
  ports_help?: string | null;
  waits?: boolean | null;
  terminal?: boolean | null;
  input_ports?: string[] | null;
  example?: Record<string, unknown> | null;
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
