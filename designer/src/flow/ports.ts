// Output ports of a node, derived from its params the way nodes/*.py derive them.
//
// The catalogue lists each type's ports for its example params and says in
// `ports_help` how they follow from the params. Types whose ports never change
// need nothing here: their catalogue ports are used. The few whose ports follow
// the params are described by data below (a list field that names ports, extra
// ports and ports that appear when a param is set), never by form code.
import type { Labels, NodeTypeInfo, PortInfo } from "../types";

export interface DerivedPort {
  name: string;
  label: Labels;
  optional?: boolean;
}

interface PortRule {
  /** a params list whose items each name a port, e.g. condition.branches[].port */
  list?: { field: string; port: string; label: string };
  /** ports the catalogue lists that are always there (besides the derived ones) */
  fixed?: string[];
  /** catalogue ports that only appear when a param test holds */
  when?: { port: string; label: Labels; test: (params: Record<string, unknown>) => boolean }[];
}

const same = (text: string): Labels => ({ en: text, nl: text, de: text });

const RULES: Record<string, PortRule> = {
  condition: {
    list: { field: "branches", port: "port", label: "label" },
    when: [
      { port: "else", label: { en: "Otherwise", nl: "Anders", de: "Sonst" }, test: () => true },
    ],
  },
  assign_role: {
    list: { field: "outcomes", port: "port", label: "label" },
    when: [
      {
        port: "overdue",
        label: { en: "Overdue", nl: "Te laat", de: "Überfällig" },
        test: (p) => p.due !== undefined && p.due !== null,
      },
    ],
  },
  email: {
    fixed: ["sent"],
    when: [
      {
        port: "no_address",
        label: { en: "No address", nl: "Geen adres", de: "Keine Adresse" },
        test: (p) => !(isObject(p.to) && p.to.kind === "address"),
      },
    ],
  },
  wait: {
    fixed: ["next"],
    when: [
      {
        port: "timeout",
        label: { en: "Timeout", nl: "Time-out", de: "Zeitüberschreitung" },
        test: (p) =>
          isObject(p.until) &&
          (p.until.mode === "event" || p.until.mode === "condition" || p.until.mode === "rule") &&
          p.until.timeout !== undefined &&
          p.until.timeout !== null,
      },
    ],
  },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function catalogueLabel(info: NodeTypeInfo | undefined, name: string): Labels | undefined {
  return info?.ports.find((p) => p.name === name)?.label;
}

/** The output ports of a node of `type` with `params`, in order. */
export function portsFor(
  info: NodeTypeInfo | undefined,
  params: Record<string, unknown> | undefined,
): DerivedPort[] {
  if (!info) return [];
  const rule = RULES[info.type];
  const p = params ?? {};
  if (!rule) return info.ports.map((port: PortInfo) => ({ ...port }));
  const out: DerivedPort[] = [];
  for (const name of rule.fixed ?? []) {
    out.push({ name, label: catalogueLabel(info, name) ?? same(name) });
  }
  if (rule.list) {
    const items = p[rule.list.field];
    if (Array.isArray(items)) {
      for (const item of items) {
        if (!isObject(item)) continue;
        const name = item[rule.list.port];
        if (typeof name !== "string" || !name) continue;
        const label = item[rule.list.label];
        out.push({ name, label: same(typeof label === "string" && label ? label : name) });
      }
    }
  }
  for (const extra of rule.when ?? []) {
    if (extra.test(p)) {
      out.push({ name: extra.port, label: catalogueLabel(info, extra.port) ?? extra.label });
    }
  }
  return out;
}
