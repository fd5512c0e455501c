// Copy and paste of nodes as JSON text: a fragment is {"nodes": [...], "edges": [...]}
// in the flow format, so a whole flow file pasted onto the canvas works too.
import type { FlowEdge, FlowNode } from "../types";
import { freshId } from "./mapping";

export interface Fragment {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export function copyFragment(nodes: FlowNode[], edges: FlowEdge[], selected: Set<string>): Fragment {
  return {
    nodes: nodes.filter((n) => selected.has(n.id)),
    edges: edges.filter((e) => selected.has(e.source) && selected.has(e.target)),
  };
}

/** A fragment from pasted text, or null when the text is not one. */
export function readFragment(text: string): Fragment | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!data || typeof data !== "object") return null;
  const obj = data as Record<string, unknown>;
  if (!Array.isArray(obj.nodes)) return null;
  const nodes = (obj.nodes as unknown[]).filter(
    (n): n is FlowNode => !!n && typeof n === "object" && typeof (n as FlowNode).id === "string" && typeof (n as FlowNode).type === "string",
  );
  const edges = Array.isArray(obj.edges)
    ? (obj.edges as unknown[]).filter(
        (e): e is FlowEdge => !!e && typeof e === "object" && typeof (e as FlowEdge).source === "string" && typeof (e as FlowEdge).target === "string",
      )
    : [];
  return { nodes, edges };
}

/**
 * The fragment made ready to add to a flow: ids that are taken get a fresh one
 * (edges follow), a second start is dropped, positions shift by `offset`.
 */
export function pasteFragment(
  fragment: Fragment,
  takenNodes: Set<string>,
  takenEdges: Set<string>,
  hasStart: boolean,
  offset: { x: number; y: number },
): Fragment {
  const rename = new Map<string, string>();
  const nodesTaken = new Set(takenNodes);
  const nodes: FlowNode[] = [];
  for (const n of fragment.nodes) {
    if (n.type === "start" && hasStart) continue;
    const id = freshId(n.id, nodesTaken);
    nodesTaken.add(id);
    rename.set(n.id, id);
    const copy: FlowNode = { ...structuredClone(n), id };
    if (n.position) copy.position = { x: n.position.x + offset.x, y: n.position.y + offset.y };
    nodes.push(copy);
  }
  const edgesTaken = new Set(takenEdges);
  const edges: FlowEdge[] = [];
  for (const e of fragment.edges) {
    const source = rename.get(e.source);
    const target = rename.get(e.target);
    if (!source || !target) continue;
    const id = freshId(e.id && !edgesTaken.has(e.id) ? e.id : `${source}-${e.source_port}-${target}`, edgesTaken);
    edgesTaken.add(id);
    edges.push({ ...e, id, source, target });
  }
  return { nodes, edges };
}
