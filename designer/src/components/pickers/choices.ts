// What a picker offers: the tenant's roles, users and templates, the flow's subject
// type's statuses and fields. Pure: the lists come in, the choices go out (Vitest).
import { pick, translate, type TextKey } from "../../i18n";
import { subjectStatusKey } from "../../subjects/status";
import type { Lang } from "../../types";

export type PickerKind = "role" | "user" | "status" | "field" | "field_path" | "template" | "flow" | "event";

// The events Procedo itself posts (runtime, payments, the debtor portal, UBL intake);
// a flow may also wait for one an integration posts (POST /subjects/{id}/events).
const EVENTS: [string, TextKey][] = [
  ["subject.created", "evSubjectCreated"],
  ["subject.changed", "evSubjectChanged"],
  ["subject.status_changed", "evStatusChanged"],
  ["invoice.received", "evInvoiceReceived"],
  ["payment.received", "evPaymentReceived"],
  ["open_item.paid", "evOpenItemPaid"],
  ["portal.paid_reported", "evPortalPaid"],
  ["portal.promise_made", "evPortalPromise"],
  ["portal.arrangement_proposed", "evPortalArrangement"],
  ["portal.copy_requested", "evPortalCopy"],
];

export interface Choice {
  value: string;
  label: string;
}

export interface PickerSources {
  roles?: { name: string; label?: string; labels?: Partial<Record<Lang, string>> }[];
  users?: { email: string; name?: string | null; active?: boolean }[];
  templates?: { name: string; subject_type: string; description?: string }[];
  subjectType?: {
    name?: string;
    statuses?: string[];
    fields?: { name: string; type: string; label?: unknown; computed?: boolean }[];
  } | null;
}

/** The choices for one picker; `fieldTypes` narrows a field picker ("date", "datetime"). */
export function choicesFor(kind: PickerKind, sources: PickerSources, lang: Lang, fieldTypes: string[] = []): Choice[] {
  const st = sources.subjectType;
  switch (kind) {
    case "role":
      return (sources.roles ?? []).map((r) => ({ value: r.name, label: r.labels?.[lang] || r.label || r.name }));
    case "user":
      return (sources.users ?? []).filter((u) => u.active !== false).map((u) => ({ value: u.email, label: u.name || u.email }));
    case "status":
      // Statuses in words where the designer knows them (texts/subjects.ts), else as named.
      return (st?.statuses ?? []).map((s) => {
        const key = subjectStatusKey(s);
        return { value: s, label: key ? translate(lang, key) : s };
      });
    case "field":
    case "field_path": {
      // A field the flow sets must be one people fill in; one it reads may be computed.
      const fields = (st?.fields ?? []).filter((f) => (kind === "field_path" || !f.computed) && (!fieldTypes.length || fieldTypes.includes(f.type)));
      const prefix = kind === "field_path" ? "subject." : "";
      return fields.map((f) => ({ value: `${prefix}${f.name}`, label: pick(f.label as never, lang) || f.name }));
    }
    case "event":
      return EVENTS.map(([value, key]) => ({ value, label: translate(lang, key) }));
    case "template":
      return (sources.templates ?? [])
        .filter((t) => !st?.name || t.subject_type === st.name)
        .map((t) => ({ value: t.name, label: t.description || t.name }));
    default:
      return [];
  }
}

/** Whether a value outside the list makes sense: a new role, a variable (vars.x). */
export function allowsOther(kind: PickerKind, choices: Choice[]): boolean {
  return kind === "role" || kind === "field_path" || kind === "event" || choices.length === 0;
}

/** An option's text: the label with the technical name, once when they are the same. */
export function optionText(choice: Choice): string {
  return choice.label && choice.label !== choice.value ? `${choice.label} (${choice.value})` : choice.value;
}
