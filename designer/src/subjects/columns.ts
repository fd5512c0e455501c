// Which fields the subject list shows, and how values read in the user's language.
import type { Lang } from "../types";
import type { Subject, SubjectFieldInfo, SubjectTypeInfo } from "./model";

/** The fields people know a subject by, in order; the server's search looks in the same ones. */
export const NAME_FIELDS = ["name", "supplier.name", "customer.name", "employee.name"];

/** Fields worth a column when a type has them, most telling first. */
const PREFERRED = [
  ...NAME_FIELDS,
  "invoice_number",
  "client_number",
  "email",
  "debt_amount",
  "payable_amount",
  "amount",
  "due_date",
  "oldest_overdue_days",
  "dunning_level",
  "vat_period",
  "submitted_on",
];
const SCALAR = new Set(["string", "email", "decimal", "integer", "date", "datetime", "bool"]);
export const MAX_COLUMNS = 4;

/** The list's columns for a type: preferred fields it has, then its first plain scalar fields. */
export function listColumns(type: SubjectTypeInfo | undefined): SubjectFieldInfo[] {
  if (!type) return [];
  const byName = new Map(type.fields.map((f) => [f.name, f]));
  const chosen: SubjectFieldInfo[] = [];
  for (const name of PREFERRED) {
    const field = byName.get(name);
    if (field && chosen.length < MAX_COLUMNS) chosen.push(field);
  }
  for (const field of type.fields) {
    if (chosen.length >= MAX_COLUMNS) break;
    if (!chosen.includes(field) && !field.computed && SCALAR.has(field.type)) chosen.push(field);
  }
  return chosen;
}

/** A field's value by its dotted name: nested objects, or a flat "a.b" key. */
export function fieldValue(fields: Record<string, unknown>, path: string): unknown {
  if (path in fields) return fields[path];
  let node: unknown = fields;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The name a person knows the subject by (its key when it has none). */
export function displayName(subject: Subject): string {
  for (const path of NAME_FIELDS) {
    const value = fieldValue(subject.fields, path);
    if (typeof value === "string" && value.trim()) return value;
  }
  return subject.key;
}

export interface Words {
  yes: string;
  no: string;
}

/** A value as the user reads it: amounts with two decimals (and the currency when known),
 * dates in the language's form, yes/no, lists joined. */
export function formatValue(value: unknown, type: string, lang: Lang, words: Words, currency?: string): string {
  if (value === undefined || value === null || value === "") return "";
  if (type === "decimal" || (type === "integer" && typeof value !== "boolean")) {
    const n = typeof value === "number" ? value : Number(value);
    if (Number.isNaN(n)) return String(value);
    if (type === "integer") return new Intl.NumberFormat(lang).format(n);
    const money = currency && /^[A-Z]{3}$/.test(currency);
    return new Intl.NumberFormat(lang, money ? { style: "currency", currency } : { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
  }
  if (type === "date" && typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split("-").map(Number) as [number, number, number];
    return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(lang, { dateStyle: "medium", timeZone: "UTC" });
  }
  if (type === "datetime" && typeof value === "string") {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? value : d.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
  }
  if (typeof value === "boolean") return value ? words.yes : words.no;
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** "1–50 of 1,234" (or "51–100" when the total is unknown). */
export function pageRange(offset: number, shown: number, total: number | null, lang: Lang, of: string): string {
  const n = (x: number) => new Intl.NumberFormat(lang).format(x);
  if (shown === 0) return total === null ? "0" : `0 ${of} ${n(total)}`;
  const range = `${n(offset + 1)}–${n(offset + shown)}`;
  return total === null ? range : `${range} ${of} ${n(total)}`;
}

/** Statuses of the built-in subject types that have a text of their own. */
export const KNOWN_STATUSES = [
  "active", "promised", "arrangement", "dispute", "handed_over", "paid",
  "in_progress", "waiting_for_client", "filed", "closed",
  "submitted", "approved", "rejected",
  "received", "checking", "awaiting_approval", "payable", "conversion_check",
] as const;
