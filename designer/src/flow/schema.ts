// Generic preparation of a node type's params JSON Schema for the form library.
// Nothing here knows a node type: it works on JSON Schema shapes only.
import type { JsonSchema } from "../types";

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
 * enums (discriminator tags such as "kind") are hidden, long texts get a textarea.
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
  if (s.type === "object" && s.properties) {
    const order = Object.keys(s.properties).sort((a, b) => rank(s, a) - rank(s, b));
    ui["ui:order"] = [...order, "*"];
    for (const [name, prop] of Object.entries<JsonSchema>(s.properties)) {
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
      const child = uiSchemaFor(p, root, depth + 1);
      if (Object.keys(child).length) ui[name] = child;
    }
  }
  if (s.type === "array" && s.items) {
    const child = uiSchemaFor(s.items, root, depth + 1);
    if (Object.keys(child).length) ui.items = child;
  }
  return ui;
}

// Required fields first, then the rest, in the schema's order (the declared one: flow/declared.ts).
function rank(s: JsonSchema, name: string): number {
  const required: string[] = s.required ?? [];
  const i = required.indexOf(name);
  return i >= 0 ? i : 100;
}

/**
 * A copy of the schema the form library can render well: a `null` option in a
 * union gets a readable title, so "no due time" can be chosen, and
 * discriminated members get their tag's value as title.
 */
export function prepareSchema(schema: JsonSchema): JsonSchema {
  const copy: JsonSchema = JSON.parse(JSON.stringify(schema ?? {}));
  const root = copy;
  const seen = new Set<JsonSchema>();
  const walk = (s: JsonSchema) => {
    if (!s || typeof s !== "object" || seen.has(s)) return;
    seen.add(s);
    if (Array.isArray(s.enum)) s.enum = naturalOrder(s.enum);
    if (Array.isArray(s.anyOf)) {
      for (const member of s.anyOf as JsonSchema[]) {
        if (member && member.type === "null" && !member.title) member.title = "—";
        else if (member && !member.title && !member.$ref && !member.anyOf) member.title = "Value";
      }
    }
    if (s.discriminator && s.discriminator.mapping && !isRuleSchema(s)) {
      const prop = s.discriminator.propertyName;
      for (const [tag, ref] of Object.entries<string>(s.discriminator.mapping)) {
        const target = resolve({ $ref: ref }, root);
        if (target && !target.__tagged) {
          target.__tagged = true;
          target.title = humanize(tag);
          if (target.properties?.[prop] && !("default" in target.properties[prop])) target.properties[prop].default = tag;
        }
      }
    }
    for (const value of Object.values(s)) {
      if (Array.isArray(value)) value.forEach((v) => walk(v));
      else if (value && typeof value === "object") walk(value);
    }
  };
  walk(copy);
  // Field titles for people: "stop_when" reads "Stop when"; the root object needs no title.
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
