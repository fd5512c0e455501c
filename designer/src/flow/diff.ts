// Which nodes changed between two versions of a flow.
import type { Flow, FlowNode } from "../types";

export type Change = "added" | "removed" | "changed" | "moved";

/** JSON with object keys sorted at every level: equal values give equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v,
  );
}

function comparable(node: FlowNode): string {
  const copy: FlowNode = { ...node };
  delete copy.position;
  if (copy.label === "") delete copy.label;
  if (copy.params && Object.keys(copy.params).length === 0) delete copy.params;
  return stableJson(copy);
}

function edgesOf(flow: Flow, id: string): string {
  return JSON.stringify(
    flow.edges
      .filter((e) => e.source === id)
      .map((e) => `${e.source_port}>${e.target}`)
      .sort(),
  );
}

/** Per node id: added (only in b), removed (only in a), changed (type, label, params or outgoing edges), moved. */
export function diffFlows(a: Flow, b: Flow): Map<string, Change> {
  const out = new Map<string, Change>();
  const before = new Map(a.nodes.map((n) => [n.id, n]));
  const after = new Map(b.nodes.map((n) => [n.id, n]));
  for (const [id, node] of after) {
    const old = before.get(id);
    if (!old) out.set(id, "added");
    else if (comparable(old) !== comparable(node) || edgesOf(a, id) !== edgesOf(b, id)) out.set(id, "changed");
    else if (stableJson(old.position ?? null) !== stableJson(node.position ?? null)) out.set(id, "moved");
  }
  for (const id of before.keys()) if (!after.has(id)) out.set(id, "removed");
  return out;
}
