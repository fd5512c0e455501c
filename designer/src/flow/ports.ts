// Output ports of a node, as the server derives them from its params (each node type's
// `ports(params)` in nodes/*.py, answered by POST /flows/validate). The designer keeps no
// copy of those rules. Between an edit and the server's answer the ports follow the edit
// where it is plain to see: a port whose name (or label) is a text in the params takes
// the text now at the same place, and a port whose place is gone goes with it. So a
// renamed outcome connects at once; ports that appear from a new param (a due time's
// "overdue") come with the answer, a moment later.
import { useEffect, useState } from "react";
import { api } from "../api";
import type { Flow, FlowNode, Labels, NodeTypeInfo, PortInfo } from "../types";

/** The server's ports for a node, and the params they were derived from. */
export interface KnownPorts {
  params: Record<string, unknown> | undefined;
  ports: PortInfo[];
}

export type PortsByNode = Map<string, KnownPorts>;

type Path = (string | number)[];

/** Every place in `value` holding the text `text`. */
function placesOf(value: unknown, text: string, at: Path = [], found: Path[] = []): Path[] {
  if (typeof value === "string") {
    if (value === text) found.push(at);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => placesOf(item, text, [...at, i], found));
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) placesOf(item, text, [...at, key], found);
  }
  return found;
}

function valueAt(value: unknown, path: Path): unknown {
  let here: unknown = value;
  for (const step of path) {
    if (here === null || typeof here !== "object") return undefined;
    here = (here as Record<string | number, unknown>)[step];
  }
  return here;
}

const same = (text: string): Labels => ({ en: text, nl: text, de: text });

/**
 * `ports` (derived from `before`) carried over to `after`: a port named by a text in the
 * params is renamed with it, or dropped when that text's place is gone.
 */
export function followEdit(ports: PortInfo[], before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): PortInfo[] {
  const out: PortInfo[] = [];
  for (const port of ports) {
    const name = followText(port.name, before, after);
    if (name === null) continue; // its branch or outcome was removed, or its name cleared
    let label = port.label;
    const text = followText(port.label.en, before, after);
    if (text !== null && text !== port.label.en) label = same(text);
    else if (name !== port.name && port.label.en === port.name) label = same(name);
    out.push({ ...port, name, label });
  }
  // A rename onto another port's name is shown once.
  return out.filter((p, i) => out.findIndex((q) => q.name === p.name) === i);
}

/**
 * What became of `text` in the params: the new text where exactly one of its places
 * changed, the same text when none did (or it is no text of the params), null when every
 * place is gone or the one changed place was emptied.
 */
function followText(text: string, before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): string | null {
  const places = placesOf(before ?? {}, text);
  if (!places.length) return text;
  const now = places.map((place) => valueAt(after ?? {}, place));
  if (now.every((value) => value === undefined)) return null;
  const changed = now.filter((value) => value !== text);
  if (changed.length !== 1) return text;
  const value = changed[0];
  return typeof value === "string" && value ? value : null;
}

const json = (value: unknown) => JSON.stringify(value ?? {});

/**
 * The output ports of `node`: the server's answer when it is about these params; else that
 * answer (or, for a node the server has not seen, the catalogue's ports for the type's
 * example) followed through the edit.
 */
export function portsFor(info: NodeTypeInfo | undefined, node: Pick<FlowNode, "params">, known?: KnownPorts): PortInfo[] {
  if (known) return json(known.params) === json(node.params) ? known.ports : followEdit(known.ports, known.params, node.params);
  if (!info) return [];
  const example = (info.example ?? {}) as Record<string, unknown>;
  return json(example) === json(node.params) ? info.ports : followEdit(info.ports, example, node.params);
}

/** The server's ports of a checked flow, keyed by node id, with the params they are for. */
export function knownPorts(flow: Flow, ports: Record<string, PortInfo[]>): PortsByNode {
  const map: PortsByNode = new Map();
  for (const node of flow.nodes) {
    const found = ports[node.id];
    if (found) map.set(node.id, { params: node.params, ports: found });
  }
  return map;
}

/** The server's ports of a flow shown read-only (a version, the running view). */
export function useFlowPorts(flow: Flow | null): PortsByNode | undefined {
  const [known, setKnown] = useState<PortsByNode>();
  useEffect(() => {
    if (!flow) return;
    let current = true;
    api.checkFlow(flow).then(
      (answer) => { if (current) setKnown(knownPorts(flow, answer.ports)); },
      () => undefined, // the catalogue's ports stand
    );
    return () => { current = false; };
  }, [flow]);
  return known;
}
