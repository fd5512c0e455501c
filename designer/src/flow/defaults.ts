// The params a node starts with when it is added from the palette: the catalogue's
// example, fitted to the flow's subject type. An example is written for one subject
// type (the invoice, mostly); on another, what names its fields would be wrong, so:
// a rule's field becomes one of the flow's fields of the same kind, texts that name
// fields the type lacks are left empty to write, and a status it lacks is left unset.
// Nothing here knows a node type: it works on rule trees, texts and field paths.

export interface SubjectTypeInfo {
  name?: string;
  label?: Record<string, string> | string;
  fields: { name: string; type: string }[];
  statuses?: string[];
}

/**
 * The words that name the other subject types ("invoice", "factuur", "expense claim"):
 * a text in an example that says one of them was written for that type.
 */
export function otherTypeWords(all: SubjectTypeInfo[], flowType: string): string[] {
  const own = all.find((t) => t.name === flowType);
  // The flow's own type's words, and its field groups ("supplier" of an invoice), stay.
  const groups = (own?.fields ?? []).map((f) => f.name.split(".")[0]!.replace(/_/g, " "));
  const ownWords = new Set([...(own ? wordsOf(own) : [flowType]), ...groups]);
  return [...new Set(all.filter((t) => t.name !== flowType).flatMap(wordsOf))].filter((w) => !ownWords.has(w));
}

function wordsOf(t: SubjectTypeInfo): string[] {
  const labels = typeof t.label === "string" ? [t.label] : Object.values(t.label ?? {});
  return [t.name ?? "", ...labels].map((w) => w.replace(/_/g, " ").trim().toLowerCase()).filter(Boolean);
}

const PLACEHOLDER = /\{\{\s*subject\.([A-Za-z][A-Za-z0-9_.]*)\s*\}\}/g;
const FIELD_PATH = /^subject\.([A-Za-z][A-Za-z0-9_.]*)$/;

/** The subject field types a rule value of each type compares with. */
const FIELD_TYPES: Record<string, string[]> = {
  decimal: ["decimal", "integer"],
  date: ["date"],
  datetime: ["datetime"],
  bool: ["bool"],
  string: ["string", "text", "email"],
};

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => !!v && typeof v === "object" && !Array.isArray(v);

export function fitExample(
  example: Record<string, Json> | null | undefined,
  subjectType: SubjectTypeInfo | null,
  otherTypes: string[] = [],
): Record<string, Json> | undefined {
  if (!example || !Object.keys(example).length) return undefined;
  const copy = structuredClone(example);
  if (!subjectType || !Array.isArray(subjectType.fields)) return copy;
  const names = new Set([...subjectType.fields.map((f) => f.name), "status"]);
  const known = (path: string) => names.has(path);
  const namesUnknown = (text: string) => [...text.matchAll(PLACEHOLDER)].some((m) => !known(m[1]!));
  const escape = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const otherType = otherTypes.length ? new RegExp(`\\b(${otherTypes.map(escape).join("|")})\\b`, "i") : null;
  // "Approve invoice" on a debtor flow: a text about another subject type.
  const foreignText = (text: string) => namesUnknown(text) || (otherType !== null && otherType.test(text));

  const fitRule = (rule: Record<string, Json>) => {
    const path = typeof rule.field === "string" ? FIELD_PATH.exec(rule.field)?.[1] : undefined;
    if (path === undefined || known(path)) return;
    const valueType = isObject(rule.value) && typeof rule.value.type === "string" ? rule.value.type : "";
    // The nearest kind first: a decimal amount for a decimal, before a count.
    const same = (FIELD_TYPES[valueType] ?? []).map((t) => subjectType.fields.find((f) => f.type === t)).find(Boolean);
    if (same) {
      rule.field = `subject.${same.name}`;
      return;
    }
    // No field of that kind: a rule on the first field that the user goes on to write.
    rule.field = `subject.${subjectType.fields[0]?.name ?? "status"}`;
    rule.op = "is_set";
    delete rule.value;
  };

  const walk = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(walk);
    if (!isObject(value)) return value;
    if (value.kind === "compare") fitRule(value);
    // A text naming fields the type lacks was written for another subject type: its
    // neighbouring texts too (an email's subject and body), so they are left to write
    // (texts only: a one-word value such as a union's tag stays).
    const foreign = Object.values(value).some((v) => typeof v === "string" && foreignText(v));
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === "string") {
        const path = FIELD_PATH.exec(v)?.[1];
        if ((foreign && /\s|\{\{/.test(v)) || (path !== undefined && !known(path))) value[key] = "";
        else if (key === "status" && subjectType.statuses?.length && !subjectType.statuses.includes(v)) delete value[key];
      } else value[key] = walk(v);
    }
    return value;
  };
  return walk(copy) as Record<string, Json>;
}
