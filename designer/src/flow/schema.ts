// Generic preparation of a node type's params JSON Schema for the form library.
// Nothing here knows a node type: it works on JSON Schema shapes only.
import type { JsonSchema, Lang } from "../types";
import { translate, type TextKey } from "../i18n";

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let s = schema;
  for (let i = 0; i < 20 && s && typeof s.$ref === "string" && s.$ref.startsWith("#/"); i += 1) {
    const path = s.$ref.slice(2).split("/");
    let target: JsonSchema | undefined = root;
    for (const part of path) target = target?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    if (!target) break;
    s = target;
  }
  return s;
}

/** Whether a (sub)schema is the rule tree: a union discriminated by `kind` with a `compare` member. */
export function isRuleSchema(schema: JsonSchema | undefined): boolean {
  const d = schema?.discriminator;
  return Boolean(d && d.propertyName === "kind" && d.mapping && "compare" in d.mapping);
}

/**
 * The uiSchema for a params schema: rule trees get the rule builder, single-value
 * enums (discriminator tags such as "kind") are hidden, long texts get a textarea,
 * a param that declares a picker ("x-picker": "role") gets the picker field, an
 * enum with labels shows them, and fields come in their declared order.
 */
export function uiSchemaFor(schema: JsonSchema, root: JsonSchema = schema, depth = 0): JsonSchema {
  const ui: JsonSchema = {};
  if (depth > 12) return ui;
  const s = resolve(schema, root);
  const RULE = { "ui:field": "rule", "ui:fieldReplacesAnyOrOneOf": true };
  if (isRuleSchema(s)) return RULE;
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (union) {
    if (union.some((m) => isRuleSchema(resolve(m, root)))) return RULE;
    // The chosen member of a union gets the union's uiSchema: merge the members' ones.
    for (const member of union) {
      const child = uiSchemaFor(member, root, depth + 1);
      for (const [k, v] of Object.entries(child)) {
        if (k === "ui:order") ui[k] = [...new Set([...((ui[k] as string[]) ?? []).filter((x) => x !== "*"), ...(v as string[])])];
        else if (!(k in ui)) ui[k] = v;
      }
    }
  }
  if (Array.isArray(s["x-enum-labels"])) ui["ui:enumNames"] = s["x-enum-labels"];
  if (s.type === "object" && s.properties) {
    ui["ui:order"] = [...declaredOrder(s), "*"];
    for (const [name, prop] of Object.entries<JsonSchema>(s.properties)) {
      const own = pickerUi(prop);
      if (own) {
        ui[name] = own;
        continue;
      }
      const p = resolve(prop, root);
      if (Array.isArray(p.enum) && p.enum.length === 1) {
        ui[name] = { "ui:widget": "hidden" };
        continue;
      }
      if (p.type === "string" && typeof p.pattern === "string" && p.pattern.startsWith("^(subject|vars)")) {
        ui[name] = { "ui:widget": "fieldPath" };
        continue;
      }
      if (p.type === "string" && (p.maxLength ?? 0) > 1000) {
        ui[name] = { "ui:widget": "textarea", "ui:options": { rows: 5 } };
        continue;
      }
      const child = uiSchemaFor(prop.$ref ? p : prop, root, depth + 1);
      if (Object.keys(child).length) ui[name] = child;
    }
  }
  if (s.type === "array" && s.items) {
    const child = uiSchemaFor(s.items, root, depth + 1);
    if (Object.keys(child).length) ui.items = child;
  }
  return ui;
}

/** The picker a param declares ("x-picker"), as the picker field's uiSchema. */
function pickerUi(prop: JsonSchema): JsonSchema | null {
  const picker = prop?.["x-picker"];
  if (typeof picker !== "string") return null;
  const options: JsonSchema = { picker };
  if (Array.isArray(prop["x-field-types"])) options.fieldTypes = prop["x-field-types"];
  return { "ui:field": "picker", "ui:fieldReplacesAnyOrOneOf": true, "ui:options": options };
}

// The order the node type declares its params in ("x-order": JSON writers may sort keys).
function declaredOrder(s: JsonSchema): string[] {
  const names = Object.keys(s.properties ?? {});
  const declared: string[] = Array.isArray(s["x-order"]) ? s["x-order"] : [];
  return [...declared.filter((n) => names.includes(n)), ...names.filter((n) => !declared.includes(n))];
}

type Triple = Partial<Record<Lang, string>>;
const inLang = (labels: unknown, lang: Lang): string | undefined => {
  if (!labels || typeof labels !== "object") return undefined;
  const l = labels as Triple;
  return l[lang] || l.en || undefined;
};

/**
 * A copy of the schema the form library can render well, in the user's language:
 * titles and help from the params' declared "x-title"/"x-help", an enum's values in
 * their declared order with their labels ("x-options"), a union's members titled by
 * their tag's label, a `null` option in a union named "none" so it can be chosen.
 */
export function prepareSchema(schema: JsonSchema, lang: Lang = "en"): JsonSchema {
  const copy: JsonSchema = JSON.parse(JSON.stringify(schema ?? {}));
  const root = copy;
  const seen = new Set<JsonSchema>();
  const words = { none: translate(lang, "formNone"), some: translate(lang, "formSet"), value: translate(lang, "formValue") };
  const walk = (s: JsonSchema) => {
    if (!s || typeof s !== "object" || seen.has(s)) return;
    seen.add(s);
    collapseNullable(s, words.none, lang);
    const title = inLang(s["x-title"], lang);
    if (title) s.title = title;
    const help = inLang(s["x-help"], lang);
    if (help) s.description = help;
    // A titled param without help of its own: the type's English description is no help.
    else if (title) delete s.description;
    const options = Array.isArray(s["x-options"]) ? (s["x-options"] as { value: string; label: Triple }[]) : [];
    // A list of choices (a phase's automations on entering): the list declares the labels
    // of what each item may be.
    if (options.length && s.type === "array" && s.items && typeof s.items === "object" && !s.items["x-options"]) s.items["x-options"] = options;
    if (Array.isArray(s.enum) && !Array.isArray(s["x-enum-labels"])) {
      if (options.length) {
        const order = options.map((o) => o.value);
        s.enum = [...order.filter((v) => s.enum.includes(v)), ...s.enum.filter((v: string) => !order.includes(v))];
        s["x-enum-labels"] = s.enum.map((v: string) => inLang(options.find((o) => o.value === v)?.label, lang) ?? v);
      } else s.enum = naturalOrder(s.enum);
    }
    if (s.discriminator && s.discriminator.mapping && !isRuleSchema(s)) {
      const prop = s.discriminator.propertyName;
      const mapping = s.discriminator.mapping as Record<string, string>;
      // Members in the declared order of their labels, each titled by its label.
      if (options.length && Array.isArray(s.anyOf)) {
        const rank = (m: JsonSchema) => {
          const i = options.findIndex((o) => mapping[o.value] === m.$ref);
          return i < 0 ? 99 : i;
        };
        s.anyOf = [...s.anyOf].sort((a: JsonSchema, b: JsonSchema) => rank(a) - rank(b));
      }
      for (const [tag, ref] of Object.entries(mapping)) {
        const target = resolve({ $ref: ref }, root);
        if (!target || target.__tagged) continue;
        target.__tagged = true;
        const label = inLang(options.find((o) => o.value === tag)?.label, lang);
        target.title = label ?? humanize(tag);
        if (target.properties?.[prop] && !("default" in target.properties[prop])) target.properties[prop].default = tag;
        // A member holding one value ({type: "decimal", value}): the value reads as the member.
        const shown = Object.entries<JsonSchema>(target.properties ?? {}).filter(([k]) => k !== prop);
        if (label && shown.length === 1 && !shown[0]![1]["x-title"]) shown[0]![1].title = label;
      }
    }
    if (Array.isArray(s.anyOf)) {
      const nullable = s.anyOf.some((m: JsonSchema) => m?.type === "null");
      for (const member of s.anyOf as JsonSchema[]) {
        if (member && member.type === "null") member.title = words.none;
        else if (member && nullable && !member.anyOf) member.title = words.some;
        else if (member && !member.title && !member.$ref && !member.anyOf) member.title = words.value;
      }
    }
    for (const value of Object.values(s)) {
      if (Array.isArray(value)) value.forEach((v) => walk(v));
      else if (value && typeof value === "object") walk(value);
    }
  };
  walk(copy);
  // A param without a declared title (a node pack's) reads its name: "stop_when" as "Stop when".
  const titled = new Set<JsonSchema>();
  const title = (s: JsonSchema) => {
    if (!s || typeof s !== "object" || titled.has(s)) return;
    titled.add(s);
    if (s.properties && typeof s.properties === "object") {
      for (const [name, prop] of Object.entries<JsonSchema>(s.properties)) {
        if (prop && typeof prop === "object" && !prop.title && !prop.$ref) prop.title = humanize(name);
      }
    }
    for (const value of Object.values(s)) {
      if (Array.isArray(value)) value.forEach(title);
      else if (value && typeof value === "object") title(value);
    }
  };
  title(copy);
  const top = resolve(copy, copy);
  if (top && top !== copy) delete top.title;
  const strip = (s: JsonSchema) => {
    if (!s || typeof s !== "object") return;
    delete s.__tagged;
    for (const value of Object.values(s)) {
      if (Array.isArray(value)) value.forEach(strip);
      else if (value && typeof value === "object") strip(value);
    }
  };
  strip(copy);
  return copy;
}

/**
 * "A value or nothing" as one field: `anyOf: [{type: "integer"}, {type: "null"}]` would
 * show a chooser ("none" / "set") before the field; an empty field is "nothing" anyway.
 */
function collapseNullable(s: JsonSchema, none: string, lang: Lang): void {
  const members = s.anyOf as JsonSchema[] | undefined;
  if (!Array.isArray(members) || members.length !== 2 || s.discriminator) return;
  const value = members.find((m) => m?.type !== "null");
  if (!value || !members.some((m) => m?.type === "null") || value.$ref || value.anyOf) return;
  delete s.anyOf;
  if (Array.isArray(value.enum)) {
    const options = Array.isArray(s["x-options"]) ? s["x-options"] : value["x-options"];
    const ordered = options ? options.map((o: { value: string }) => o.value).filter((v: string) => value.enum.includes(v)) : naturalOrder(value.enum);
    s.enum = [null, ...ordered];
    s["x-enum-labels"] = [none, ...ordered.map((v: string) => inLang(options?.find((o: { value: string }) => o.value === v)?.label, lang) ?? v)];
    s.type = ["string", "null"];
    return;
  }
  if (typeof value.type !== "string") return;
  for (const [k, v] of Object.entries(value)) if (!(k in s)) s[k] = v;
  s.type = [value.type, "null"];
}

// JSON Schema generators list a Literal's values sorted (friday, monday, ...); some
// values have an order of their own that people expect in a drop-down.
const NATURAL_ORDERS = [
  ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
  ["seconds", "minutes", "hours", "days", "business_days", "weeks", "months", "quarters", "years"],
  ["second", "minute", "hour", "day", "week", "month", "quarter", "year"],
];

/** An enum's values in their natural order (weekdays Monday first, time units by size), else as given. */
export function naturalOrder(values: unknown[]): unknown[] {
  for (const order of NATURAL_ORDERS) {
    if (values.length > 1 && values.every((v) => typeof v === "string" && order.includes(v))) {
      return [...values].sort((a, b) => order.indexOf(a as string) - order.indexOf(b as string));
    }
  }
  return values;
}

export function humanize(name: string): string {
  const text = name.replace(/_/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The properties an object (sub)schema may have: through $ref and across union members. */
function propertiesOf(schema: JsonSchema | undefined, root: JsonSchema): Record<string, JsonSchema> {
  if (!schema) return {};
  const s = resolve(schema, root);
  const out: Record<string, JsonSchema> = { ...(s.properties ?? {}) };
  for (const member of (s.anyOf ?? s.oneOf ?? []) as JsonSchema[]) {
    for (const [k, v] of Object.entries(propertiesOf(member, root))) if (!(k in out)) out[k] = v;
  }
  return out;
}

function itemsOf(schema: JsonSchema | undefined, root: JsonSchema): JsonSchema | undefined {
  if (!schema) return undefined;
  const s = resolve(schema, root);
  if (s.items) return s.items;
  for (const member of (s.anyOf ?? s.oneOf ?? []) as JsonSchema[]) {
    const found = itemsOf(member, root);
    if (found) return found;
  }
  return undefined;
}

function defaultOf(schema: JsonSchema | undefined, root: JsonSchema): { has: boolean; value?: unknown } {
  if (!schema) return { has: false };
  if ("default" in schema) return { has: true, value: schema.default };
  const s = resolve(schema, root);
  return "default" in s ? { has: true, value: s.default } : { has: false };
}

/** A discriminator tag: a property that allows one value only. */
function isTag(schema: JsonSchema | undefined, root: JsonSchema): boolean {
  if (!schema) return false;
  const s = resolve(schema, root);
  return Array.isArray(s.enum) && s.enum.length === 1;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

function prune(next: unknown, before: unknown, schema: JsonSchema | undefined, root: JsonSchema): unknown {
  if (Array.isArray(next)) {
    const items = itemsOf(schema, root);
    const old = Array.isArray(before) ? before : [];
    return next.map((v, i) => prune(v, old[i], items, root));
  }
  if (!isPlainObject(next)) return next;
  const old = isPlainObject(before) ? before : undefined;
  const props = propertiesOf(schema, root);
  const out: Record<string, unknown> = {};
  // The node's own key order first, so an edit changes only what was edited.
  const keys = [...Object.keys(old ?? {}).filter((k) => k in next), ...Object.keys(next).filter((k) => !old || !(k in old))];
  for (const key of keys) {
    const value = next[key];
    if (value === undefined) continue;
    if (old && key in old) {
      out[key] = prune(value, old[key], props[key], root);
      continue;
    }
    // A union member's tag ("type": "decimal") is the member the user chose, not a
    // default: every member requires it, so it is kept (a value without it fits no member).
    if (isTag(props[key], root)) {
      out[key] = value;
      continue;
    }
    // A field the node did not have: drop what the form filled in by itself.
    const d = defaultOf(props[key], root);
    if (d.has && equal(d.value, value)) continue;
    if (!d.has && old && (value === "" || value === null)) continue;
    out[key] = prune(value, undefined, props[key], root);
  }
  return out;
}

/**
 * Params after a form change, without the defaults the form filled in for
 * fields the node did not have (at any depth): opening a form never changes a node.
 */
export function pruneDefaults(
  next: Record<string, unknown>,
  before: Record<string, unknown> | undefined,
  schema: JsonSchema,
): Record<string, unknown> {
  return prune(next ?? {}, before ?? {}, schema, schema) as Record<string, unknown>;
}

/**
 * The server's problems for a node as the form library's error schema, so each
 * message shows under the field its JSON path names ("$.branches[1].port").
 */
export function errorSchemaFor(problems: { message: string; path?: string | null }[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of problems) {
    if (!p.path || !p.path.startsWith("$.") || p.path.startsWith("$.ports")) continue;
    const parts = p.path
      .slice(2)
      .replace(/\[(\d+)\]/g, ".$1")
      .split(".")
      .filter(Boolean);
    let at = root;
    for (const part of parts) {
      at[part] = (at[part] as Record<string, unknown>) ?? {};
      at = at[part] as Record<string, unknown>;
    }
    const errors = (at.__errors as string[]) ?? [];
    errors.push(p.message);
    at.__errors = errors;
  }
  return root;
}

/** What a form error says, in the user's language: the validator's own messages are English. */
export interface FormError {
  name?: string;
  property?: string;
  message?: string;
  params?: Record<string, unknown>;
  stack: string;
  schemaPath?: string;
}

// Patterns whose meaning people know by name; others get the general "expected form".
const PATTERN_TEXTS: [RegExp, TextKey][] = [
  [/^\^\[a-z\]\[a-z0-9_\]/, "errKey"],
  [/^\^\(\[01\]\[0-9\]\|2\[0-3\]\)/, "errClock"],
  [/\(\\\.\[a-z\]\[a-z0-9_\]\*\)\+\$$/, "errEvent"],
  [/@/, "errEmail"],
];

/**
 * The validator's errors in the user's language, without the noise of unions ("must
 * match a schema in anyOf"): the chosen member's own errors say what is wrong.
 */
export function localizeErrors<E extends FormError>(errors: E[], lang: Lang): E[] {
  const number = (v: unknown) => new Intl.NumberFormat(lang).format(Number(v));
  const say = (key: TextKey, vars: Record<string, string | number> = {}) => translate(lang, key, vars);
  const out: E[] = [];
  for (const error of errors) {
    const p = error.params ?? {};
    let message: string | null;
    switch (error.name) {
      case "anyOf":
      case "oneOf":
      case "const":
      case "if":
      case "discriminator":
        message = null;
        break;
      case "required":
        message = say("errRequired");
        break;
      case "minLength":
        message = Number(p.limit) <= 1 ? say("errRequired") : say("errMinLength", { n: number(p.limit) });
        break;
      case "maxLength":
        message = say("errMaxLength", { n: number(p.limit) });
        break;
      case "minimum":
      case "exclusiveMinimum":
        message = say("errMinimum", { n: number(p.limit) });
        break;
      case "maximum":
      case "exclusiveMaximum":
        message = say("errMaximum", { n: number(p.limit) });
        break;
      case "minItems":
        message = say("errMinItems", { n: number(p.limit) });
        break;
      case "maxItems":
        message = say("errMaxItems", { n: number(p.limit) });
        break;
      case "enum":
        message = say("errEnum");
        break;
      case "type":
        message = p.type === "integer" || p.type === "number" ? say("errNumber") : say("errInvalid");
        break;
      case "format":
        message = p.format === "date" ? say("errDate") : p.format === "decimal" ? say("errDecimal") : say("errInvalid");
        break;
      case "pattern": {
        const found = PATTERN_TEXTS.find(([re]) => re.test(String(p.pattern ?? "")));
        message = say(found ? found[1] : "errPattern");
        break;
      }
      case "additionalProperties":
        message = say("errUnknownField", { name: String(p.additionalProperty ?? "") });
        break;
      default:
        message = say("errInvalid");
    }
    if (message === null) continue;
    out.push({ ...error, message, stack: `${error.property ?? ""} ${message}`.trim() });
  }
  return out;
}

/** A param's title in the user's language for a problem's JSON path ("$.assignee.role" → "Rolle"). */
export function titleAt(schema: JsonSchema, path: string | null | undefined): string | null {
  if (!path || !path.startsWith("$.")) return null;
  const parts = path.slice(2).replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean);
  let at: JsonSchema | undefined = resolve(schema, schema);
  let title: string | null = null;
  for (const part of parts) {
    if (!at) return title;
    if (/^\d+$/.test(part)) {
      const items = itemsOf(at, schema);
      at = items ? resolve(items, schema) : undefined;
      continue;
    }
    const prop: JsonSchema | undefined = propertiesOf(at, schema)[part];
    if (!prop) return title;
    title = typeof prop.title === "string" ? prop.title : title;
    at = prop;
  }
  return title;
}
