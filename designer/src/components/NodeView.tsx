import { createContext, memo, useContext, useEffect, useRef } from "react";
import { Handle, Position, useUpdateNodeInternals, type NodeProps } from "@xyflow/react";
import { pick } from "../i18n";
import { portsFor, type PortsByNode } from "../flow/ports";
import type { CanvasNode } from "../flow/mapping";
import { CategoryIcon } from "./Icon";
import type { Lang, NodeTypeInfo, Problem } from "../types";

export interface CanvasContextValue {
  catalogue: Map<string, NodeTypeInfo>;
  lang: Lang;
  problemsByNode: Map<string, Problem[]>;
  /** ports used by edges, per node: shown even when the params no longer derive them */
  usedPorts: Map<string, Set<string>>;
  /** each node's ports as the server derived them (flow/ports.ts); else the catalogue's */
  ports?: PortsByNode;
  counts?: Record<string, number>;
  changed?: Map<string, "added" | "changed" | "removed">;
  path?: Set<string>;
  positions?: Set<string>;
  markerDraggable?: boolean;
  onMarkerDrop?: (nodeId: string) => void;
}

export const CanvasContext = createContext<CanvasContextValue>({
  catalogue: new Map(),
  lang: "en",
  problemsByNode: new Map(),
  usedPorts: new Map(),
});

export const CATEGORY_COLORS: Record<string, string> = {
  flow: "#64748b",
  logic: "#d97706",
  people: "#4f46e5",
  time: "#0891b2",
  messages: "#db2777",
  data: "#059669",
};


/** A line that says what a node does: its first short text param, required ones first. */
function summary(info: NodeTypeInfo | undefined, params: Record<string, unknown> | undefined): string {
  if (!params) return "";
  const schema = info?.params_schema ?? {};
  const ref = typeof schema.$ref === "string" ? schema.$ref.split("/").pop() : null;
  const root = ref ? schema.$defs?.[ref] : schema;
  const required: string[] = root?.required ?? [];
  const keys = [...required, ...Object.keys(params).filter((k) => !required.includes(k))];
  for (const key of keys) {
    const value = params[key];
    if (typeof value === "string" && value.trim() && value.length <= 80) return value;
  }
  return "";
}

function ProcedoNodeViewInner({ id, data, selected }: NodeProps<CanvasNode>) {
  const ctx = useContext(CanvasContext);
  const node = data.node;
  const info = ctx.catalogue.get(node.type);
  const ports = portsFor(info, node, ctx.ports?.get(id));
  const names = new Set(ports.map((p) => p.name));
  const stray = [...(ctx.usedPorts.get(id) ?? [])].filter((p) => !names.has(p));
  const problems = ctx.problemsByNode.get(id) ?? [];
  const color = CATEGORY_COLORS[info?.category ?? ""] ?? "#475569";
  const typeLabel = info ? pick(info.labels, ctx.lang) : node.type;
  const count = ctx.counts?.[id];
  const change = ctx.changed?.get(id);
  const classes = [
    "pnode",
    selected ? "selected" : "",
    problems.length ? "has-problems" : "",
    change ? `diff-${change}` : "",
    ctx.path?.has(id) ? "on-path" : "",
    ctx.positions?.has(id) ? "is-here" : "",
    info?.waits ? "waits" : "",
  ].join(" ");
  const allPorts = [...ports.map((p) => ({ name: p.name, label: pick(p.label, ctx.lang), stray: false })), ...stray.map((s) => ({ name: s, label: s, stray: true }))];
  // React Flow measures handles once; when ports are renamed, added or removed it must
  // measure again, or a renamed port cannot be connected until the page is reloaded.
  const updateNodeInternals = useUpdateNodeInternals();
  const handleKey = allPorts.map((p) => p.name).join("\u0000");
  const measuredKey = useRef(handleKey);
  useEffect(() => {
    if (measuredKey.current === handleKey) return; // mounting measures by itself
    measuredKey.current = handleKey;
    updateNodeInternals(id);
  }, [id, handleKey, updateNodeInternals]);
  return (
    <div
      className={classes}
      style={{ "--accent": color } as React.CSSProperties}
      data-node-id={id}
      data-node-type={node.type}
      title={problems.map((p) => p.message).join("\n") || undefined}
      onDragOver={ctx.onMarkerDrop ? (e) => { if (e.dataTransfer.types.includes("application/procedo-instance")) e.preventDefault(); } : undefined}
      onDrop={ctx.onMarkerDrop ? (e) => { if (e.dataTransfer.types.includes("application/procedo-instance")) { e.preventDefault(); ctx.onMarkerDrop!(id); } } : undefined}
    >
      {node.type !== "start" && <Handle type="target" position={Position.Left} className="in-handle" />}
      <div className="pnode-head">
        <span className="pnode-icon" aria-hidden><CategoryIcon category={info?.category ?? ""} /></span>
        <div className="pnode-titles">
          <div className="pnode-label">{node.label || typeLabel}</div>
          <div className="pnode-type">{typeLabel} · <code>{id}</code></div>
          {summary(info, node.params) && <div className="pnode-summary">{summary(info, node.params)}</div>}
        </div>
        {problems.length > 0 && <span className="pnode-problems" data-testid="node-problems">{problems.length}</span>}
        {count !== undefined && count > 0 && <span className="pnode-count" data-testid="node-count">{count}</span>}
      </div>
      {ctx.positions?.has(id) && (
        <div
          className={`instance-marker nodrag nopan ${ctx.markerDraggable ? "draggable" : ""}`}
          draggable={ctx.markerDraggable}
          data-testid="instance-marker"
          onDragStart={(e) => { e.dataTransfer.setData("application/procedo-instance", id); e.dataTransfer.effectAllowed = "move"; }}
        >● {ctx.lang === "nl" ? "hier" : ctx.lang === "de" ? "hier" : "here"}</div>
      )}
      {allPorts.length > 0 && (
        <div className="pnode-ports">
          {allPorts.map((p) => (
            <div key={p.name} className={`pnode-port ${p.stray ? "stray" : ""}`} data-port={p.name}>
              <span>{p.label}</span>
              <Handle type="source" position={Position.Right} id={p.name} className="out-handle" />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

export const ProcedoNodeView = memo(ProcedoNodeViewInner);
export const nodeTypes = { procedo: ProcedoNodeView };
