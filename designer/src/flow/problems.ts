// Validation problems in plain language (issue 13): a sentence per problem code in the
// user's language, naming the node by its label and the field by its title; the code and
// the server's own message stay available for support.
import { translate, type TextKey } from "../i18n";
import type { FlowEdge, Lang, Problem } from "../types";
import { quoted } from "../history/describe";
import { history } from "../texts/history";

export interface ProblemContext {
  /** a node's label as the canvas shows it */
  nodeLabel: (id: string) => string;
  /** the title of the param at `path` ("$.params.body") of node `id`, in the user's language */
  fieldTitle: (id: string, path: string) => string | null;
  /** a port's label on node `id` */
  portLabel: (id: string, port: string) => string;
  edges: FlowEdge[];
}

export interface DescribedProblem {
  text: string;
  /** for support: the code, the place and the server's message */
  code: string;
}

/** The codes with a sentence of their own. */
export function problemKey(code: string): TextKey | null {
  const key = `problem:${code}`;
  return key in history ? (key as TextKey) : null;
}

const FLOW_PARTS: Record<string, TextKey> = {
  trigger: "partTrigger",
  stop_when: "partStopWhen",
  name: "partName",
  key: "partKey",
  subject_type: "partSubjectType",
};

/** What the message names: the last 'quoted' word before any advice after ';'. */
function named(message: string): string {
  const head = message.split(";")[0] ?? message;
  const all = [...head.matchAll(/'([^']+)'/g)];
  return all.length ? all[all.length - 1]![1]! : "";
}

/** "$.params.outcomes[0].port" -> "$.outcomes[0].port" (the param's path inside the node). */
function paramPath(path: string): string | null {
  if (!path.startsWith("$.params")) return null;
  return "$" + path.slice("$.params".length);
}

export function describeProblem(p: Problem, lang: Lang, ctx: ProblemContext): DescribedProblem {
  const q = (text: string) => quoted(text, lang);
  const node = p.node ? q(ctx.nodeLabel(p.node) || p.node) : translate(lang, "problemFlow");
  let where = node;
  if (p.node && p.path) {
    const inner = paramPath(p.path);
    const title = inner ? ctx.fieldTitle(p.node, inner) : null;
    if (title) where = translate(lang, "problemAt", { node, field: q(title) });
  } else if (!p.node && p.path) {
    const part = /^\$\.([A-Za-z_]+)/.exec(p.path)?.[1];
    const key = part ? FLOW_PARTS[part] : undefined;
    if (key) where = translate(lang, "problemAt", { node: translate(lang, "problemFlow"), field: q(translate(lang, key)) });
  }
  const edge = p.edge ? ctx.edges.find((e) => e.id === p.edge) : undefined;
  const edgeText = edge
    ? translate(lang, "problemEdge", { from: q(ctx.nodeLabel(edge.source) || edge.source), to: q(ctx.nodeLabel(edge.target) || edge.target) })
    : p.edge ?? "";
  const portName = p.path?.startsWith("$.ports.") ? p.path.slice("$.ports.".length) : "";
  const vars = {
    node,
    where,
    edge: edgeText,
    port: portName && p.node ? q(ctx.portLabel(p.node, portName) || portName) : q(portName),
    name: q(named(p.message)),
    line: p.line ?? 1,
    column: p.column ?? 1,
    message: p.message,
  };
  // "<type>.source.invalid": a type that may only follow certain ports (escalate today).
  const code = /\.source\.invalid$/.test(p.code) && !problemKey(p.code) ? "escalate.source.invalid" : p.code;
  const key = problemKey(code) ?? "problem:other";
  const place = [p.node, p.edge, p.path].filter(Boolean).join(" ");
  return { text: translate(lang, key, vars), code: `${p.code}${place ? ` (${place})` : ""}: ${p.message}` };
}

type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function resolved(s: Schema | undefined, root: Schema): Schema | undefined {
  let at = s;
  for (let i = 0; i < 8 && at && typeof at.$ref === "string"; i += 1) at = root.$defs?.[at.$ref.split("/").pop()!];
  return at;
}

/** A declared title ("x-title": {en, nl, de} or [en, nl, de]) in `lang`. */
function titleIn(value: unknown, lang: Lang): string | null {
  if (Array.isArray(value)) return (value[{ en: 0, nl: 1, de: 2 }[lang]] as string) || (value[0] as string) || null;
  if (value && typeof value === "object") {
    const labels = value as Record<string, string>;
    return labels[lang] || labels.en || null;
  }
  return null;
}

/**
 * The title a node type declares for the param at `path` ("$.outcomes[0].port"), in `lang`:
 * the deepest declared title on the way; null when none is declared.
 */
export function paramTitle(schema: Schema, path: string, lang: Lang): string | null {
  const parts = path.replace(/^\$\.?/, "").replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean);
  let at = resolved(schema, schema);
  let title: string | null = null;
  for (const part of parts) {
    if (!at) break;
    if (/^\d+$/.test(part)) {
      at = resolved(at.items, schema);
      continue;
    }
    const members: Schema[] = [at, ...((at.anyOf ?? at.oneOf ?? []) as Schema[]).map((m) => resolved(m, schema) ?? {})];
    const prop = members.map((m) => m.properties?.[part] as Schema | undefined).find(Boolean);
    if (!prop) break;
    title = titleIn(prop["x-title"], lang) ?? title;
    at = resolved(prop, schema);
    if (at && !at.properties && !at.items) {
      const member = ((at.anyOf ?? []) as Schema[]).map((m) => resolved(m, schema)).find((m) => m?.properties || m?.items);
      if (member) at = member;
    }
  }
  return title;
}
