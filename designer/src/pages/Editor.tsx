// The flow editor: canvas, palette, side panel, live validation, save, publish, versions.
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type IsValidConnection,
  type NodeChange,
} from "@xyflow/react";
import { api, ApiError } from "../api";
import { loadSubjectType, loadSubjectTypes, useCatalogue } from "../catalogue";
import { pick, useT } from "../i18n";
import { navigate } from "../router";
import { useUser } from "../user";
import {
  canvasToFlow,
  edgeId,
  flowToCanvas,
  fromCanvasEdge,
  fromCanvasNode,
  freshId,
  toCanvasEdge,
  toCanvasNode,
  type CanvasEdge,
  type CanvasNode,
} from "../flow/mapping";
import { connectionProblem } from "../flow/connections";
import { boxOf, freeSpot, NEW_NODE_SIZE } from "../flow/placement";
import { fitExample, otherTypeWords, type SubjectTypeInfo } from "../flow/defaults";
import { publishState } from "../flow/publish";
import { validateAll } from "../flow/probe";
import { knownPorts, portsFor, type PortsByNode } from "../flow/ports";
import { describeProblem, paramTitle, type ProblemContext } from "../flow/problems";
import { autoLayout } from "../flow/layout";
import { copyFragment, pasteFragment, readFragment, type Fragment } from "../flow/clipboard";
import { diffFlows, stableJson, type Change } from "../flow/diff";
import { CanvasContext, nodeTypes, type CanvasContextValue } from "../components/NodeView";
import { Palette } from "../components/Palette";
import { ToolLabel } from "../components/Icon";
// The forms (rjsf, ajv) load after the canvas: a big flow shows first.
const ParamsPanel = lazy(() => import("../components/ParamsPanel").then((m) => ({ default: m.ParamsPanel })));
const FlowSettings = lazy(() => import("../components/FlowSettings").then((m) => ({ default: m.FlowSettings })));
import { fieldsFrom, type RuleContext } from "../components/RuleBuilder";
import { docOf } from "../flow/document";
import type { Flow, FlowCheck, FlowNode, Problem, VersionInfo } from "../types";
import { download, when } from "../util";

const BIG_FLOW = 150;

interface Snapshot {
  meta: Flow;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

type Said = [string, string, string];
const SHORTCUTS: [string | Said, Said][] = [
  [["Drag from the palette / double-click", "Slepen uit het palet / dubbelklikken", "Aus der Palette ziehen / Doppelklick"], ["add a node", "blok toevoegen", "Baustein hinzufügen"]],
  [["Drag from a port to a node", "Slepen van een uitgang naar een blok", "Von einem Ausgang auf einen Baustein ziehen"], ["connect", "verbinden", "verbinden"]],
  [["Click, Ctrl/⌘+click, Shift+drag", "Klik, Ctrl/⌘+klik, Shift+slepen", "Klick, Strg/⌘+Klick, Umschalt+Ziehen"], ["select, multi-select, box-select", "selecteren, meer selecteren, kader", "auswählen, mehrere, Rahmen"]],
  [["Delete / Backspace", "Delete / Backspace", "Entf / Rücktaste"], ["delete the selection", "selectie verwijderen", "Auswahl löschen"]],
  ["Ctrl/⌘+Z", ["undo", "ongedaan maken", "rückgängig"]],
  ["Ctrl/⌘+Shift+Z, Ctrl/⌘+Y", ["redo", "opnieuw", "wiederholen"]],
  ["Ctrl/⌘+C / X / V", ["copy / cut / paste (JSON text, also between flows)", "kopiëren / knippen / plakken (JSON-tekst, ook tussen flows)", "kopieren / ausschneiden / einfügen (JSON-Text, auch zwischen Abläufen)"]],
  ["Ctrl/⌘+A", ["select all", "alles selecteren", "alles auswählen"]],
  ["Ctrl/⌘+S", ["save the draft", "concept opslaan", "Entwurf speichern"]],
  ["L", ["auto-layout", "automatisch schikken", "automatisch anordnen"]],
  ["F", ["fit view", "passend maken", "einpassen"]],
  ["?", ["this help", "deze hulp", "diese Hilfe"]],
  ["Esc", ["clear the selection, close panels", "selectie wissen, panelen sluiten", "Auswahl aufheben, Fenster schließen"]],
];

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}

/** The server's problems and ports for a flow, whether it answers as a result or as an error. */
function checkFlow(flow: Flow): Promise<FlowCheck> {
  return api.checkFlow(flow).catch((e: unknown) => {
    if (e instanceof ApiError && e.problems.length) return { problems: e.problems, ports: {} };
    throw e;
  });
}

/**
 * The latest published version as stable JSON, or null when there is none. Without a
 * draft the flow record's document is that version; with one, the version is read.
 */
async function publishedVersionJson(
  flowKey: string,
  rec: { latest_version: number | null; has_draft?: boolean } | null,
  draftJson: string,
): Promise<string | null> {
  if (!rec?.latest_version) return null;
  if (rec.has_draft === false) return draftJson;
  try {
    return stableJson(docOf(await api.version(flowKey, rec.latest_version)));
  } catch {
    return null; // unknown: Publish stays offered, and the server has the last word
  }
}

/** Why a connection is refused (flow/connections.ts), in the user's language. */
function connectText(reason: string, t: ReturnType<typeof useT>["t"]): string {
  if (/start/.test(reason)) return t("edIntoStart");
  if (/itself/.test(reason)) return t("edSelfLoop");
  if (/no output port/.test(reason)) return t("edNoPort");
  if (/can only follow/.test(reason)) return t("edOnlyAfter");
  if (/already connected/.test(reason)) return t("edTwice");
  return t("edConnectPort");
}

export function EditorPage(props: { flowKey: string; version?: number }) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}

function Editor({ flowKey, version }: { flowKey: string; version?: number }) {
  const { t, lang } = useT();
  const user = useUser();
  const catalogue = useCatalogue();
  const rf = useReactFlow<CanvasNode, CanvasEdge>();
  const rfRef = useRef(rf);
  rfRef.current = rf;
  const readOnly = version !== undefined || user?.access === "member" || user?.access === "partner";

  const [meta, setMeta] = useState<Flow | null>(null);
  const [nodes, setNodes] = useState<CanvasNode[]>([]);
  const [edges, setEdges] = useState<CanvasEdge[]>([]);
  const [loadError, setLoadError] = useState("");
  const [etag, setEtag] = useState("");
  const [record, setRecord] = useState<{ latest_version: number | null; updated_at: string | null; updated_by: string | null } | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  // Each node's ports as the server derived them; read by the canvas and the connection check.
  const [serverPorts, setServerPorts] = useState<PortsByNode>(new Map());
  const portsRef = useRef(serverPorts);
  portsRef.current = serverPorts;
  const [validating, setValidating] = useState(false);
  const [savedJson, setSavedJson] = useState("");
  // The latest published version as stable JSON: Publish is offered only when the flow differs.
  const [publishedJson, setPublishedJson] = useState<string | null>(null);
  const [currentJson, setCurrentJson] = useState("");
  const [saving, setSaving] = useState(false);
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const [conflict, setConflict] = useState<{ by?: string; at?: string } | null>(null);
  const [panel, setPanel] = useState<"none" | "versions" | "help" | "json">("none");
  const [versions, setVersions] = useState<VersionInfo[]>([]);
  const [diff, setDiff] = useState<{ a: number | "draft"; b: number | "draft"; changes: Map<string, Change> } | null>(null);
  const [subjectType, setSubjectType] = useState<Record<string, unknown> | null>(null);
  const [jsonText, setJsonText] = useState("");
  const [busy, setBusy] = useState("");

  const past = useRef<Snapshot[]>([]);
  const future = useRef<Snapshot[]>([]);
  const state = useRef<Snapshot | null>(null);
  state.current = meta ? { meta, nodes, edges } : null;
  const clipboard = useRef<string>("");
  const wrapper = useRef<HTMLDivElement>(null);

  // Confirmations go away by themselves; errors stay until clicked.
  useEffect(() => {
    if (message?.kind !== "ok") return;
    const timer = setTimeout(() => setMessage(null), 5000);
    return () => clearTimeout(timer);
  }, [message]);

  // ---------------------------------------------------------------- load
  const load = useCallback(async () => {
    setLoadError("");
    try {
      let doc: Flow;
      let draftRecord: Awaited<ReturnType<typeof api.flow>> | null = null;
      if (version !== undefined) {
        doc = docOf(await api.version(flowKey, version));
        const rec = await api.flow(flowKey).catch(() => null);
        setRecord(rec);
      } else {
        const rec = await api.flow(flowKey);
        doc = docOf(rec.draft ?? rec);
        setEtag(rec.etag);
        setRecord(rec);
        draftRecord = rec;
      }
      const canvas = flowToCanvas(doc);
      performance.mark("procedo:flow-loaded");
      setMeta(canvas.meta);
      setNodes(canvas.nodes);
      setEdges(canvas.edges);
      const json = stableJson(doc);
      setSavedJson(json);
      setCurrentJson(json);
      setPublishedJson(null);
      void publishedVersionJson(flowKey, draftRecord, json).then(setPublishedJson);
      past.current = [];
      future.current = [];
      setConflict(null);
      // A big flow opens around its start (fitting hundreds of nodes would draw them all at once).
      const start = canvas.nodes.find((n) => n.data.node.type === "start") ?? canvas.nodes[0];
      setTimeout(() => {
        if (canvas.nodes.length <= BIG_FLOW || !start) rfRef.current.fitView({ padding: 0.15, duration: 0, maxZoom: 1 });
        else rfRef.current.setCenter(start.position.x + 400, start.position.y + 200, { zoom: 0.8 });
      }, 50);
    } catch (e) {
      setLoadError(e instanceof ApiError ? e.detail : String(e));
    }
  }, [flowKey, version]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    api.versions(flowKey).then((v) => setVersions(Array.isArray(v) ? v : []), () => setVersions([]));
  }, [flowKey, record?.latest_version]);

  useEffect(() => {
    if (!meta?.subject_type) return;
    void loadSubjectType(meta.subject_type).then(setSubjectType);
  }, [meta?.subject_type]);
  // Words that name the other subject types: example texts about them are left to write.
  const [otherTypes, setOtherTypes] = useState<string[]>([]);
  useEffect(() => {
    if (!meta?.subject_type || readOnly) return;
    const flowType = meta.subject_type;
    void loadSubjectTypes().then((all) => setOtherTypes(otherTypeWords(all as unknown as SubjectTypeInfo[], flowType)));
  }, [meta?.subject_type, readOnly]);

  // The side panel's forms mount once the canvas has drawn (compiling schemas takes a moment).
  const [formsReady, setFormsReady] = useState(false);
  const hasMeta = meta !== null;
  useEffect(() => {
    if (!hasMeta) return;
    const timer = setTimeout(() => setFormsReady(true), 350);
    return () => clearTimeout(timer);
  }, [hasMeta]);

  // ---------------------------------------------------------------- history
  const remember = useCallback(() => {
    const s = state.current;
    if (!s) return;
    const last = past.current[past.current.length - 1];
    // One gesture can report several changes (a node and its edges deleted): one undo step.
    if (last && last.meta === s.meta && last.nodes === s.nodes && last.edges === s.edges) return;
    past.current.push({ meta: s.meta, nodes: s.nodes, edges: s.edges });
    if (past.current.length > 200) past.current.shift();
    future.current = [];
  }, []);

  const restore = (s: Snapshot) => {
    setMeta(s.meta);
    setNodes(s.nodes);
    setEdges(s.edges);
  };
  const undo = useCallback(() => {
    const prev = past.current.pop();
    if (!prev || !state.current) return;
    future.current.push(state.current);
    restore(prev);
  }, []);
  const redo = useCallback(() => {
    const next = future.current.pop();
    if (!next || !state.current) return;
    past.current.push(state.current);
    restore(next);
  }, []);

  // ---------------------------------------------------------------- flow JSON, validation
  // `pending`: the canvas changed and the server has not yet answered for what it shows now.
  const [pending, setPending] = useState(true);
  const answered = useRef("");
  const latest = useRef("");
  useEffect(() => {
    if (!meta) return;
    setPending(true);
    const timer = setTimeout(() => {
      const json = stableJson(canvasToFlow(meta, nodes, edges));
      latest.current = json;
      setCurrentJson(json);
      if (json === answered.current || readOnly) setPending(false);
    }, 250);
    return () => clearTimeout(timer);
  }, [meta, nodes, edges, readOnly]);

  const validated = useRef("");
  useEffect(() => {
    // A read-only version is checked too: the server says its nodes' ports.
    if (!currentJson || currentJson === validated.current) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      validated.current = currentJson;
      setValidating(true);
      // Every problem: asked again with stand-ins when a flow-level field stopped the check early.
      const checking = JSON.parse(currentJson) as Flow;
      validateAll(checking, checkFlow).then(
        (found) => {
          if (cancelled) return;
          if (!readOnly) setProblems(found.problems);
          setServerPorts((before) => new Map([...before, ...knownPorts(checking, found.ports)]));
          setValidating(false);
          answered.current = validated.current;
          if (latest.current === validated.current) setPending(false);
        },
        (e) => {
          if (cancelled) return;
          setValidating(false);
          answered.current = validated.current;
          if (latest.current === validated.current) setPending(false);
          if (e instanceof ApiError && e.problems.length) setProblems(e.problems);
          else setMessage({ kind: "error", text: e instanceof ApiError ? e.detail : String(e) });
        },
      );
    }, 300);
    return () => { cancelled = true; clearTimeout(timer); };
  }, [currentJson, readOnly]);

  const dirty = currentJson !== savedJson;

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => { if (dirty && !readOnly) e.preventDefault(); };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty, readOnly]);

  const problemsByNode = useMemo(() => {
    const map = new Map<string, Problem[]>();
    for (const p of problems) if (p.node) map.set(p.node, [...(map.get(p.node) ?? []), p]);
    return map;
  }, [problems]);
  const problemEdges = useMemo(() => new Set(problems.map((p) => p.edge).filter(Boolean) as string[]), [problems]);
  const usedPorts = useMemo(() => {
    const map = new Map<string, Set<string>>();
    for (const e of edges) {
      const set = map.get(e.source) ?? new Set<string>();
      if (e.sourceHandle) set.add(e.sourceHandle);
      map.set(e.source, set);
    }
    return map;
  }, [edges]);

  const ctxValue: CanvasContextValue = useMemo(
    () => ({ catalogue: catalogue ?? new Map(), lang, problemsByNode, usedPorts, ports: serverPorts, changed: diff?.changes as Map<string, "added" | "changed" | "removed"> | undefined }),
    [catalogue, lang, problemsByNode, usedPorts, serverPorts, diff],
  );

  const shownEdges = useMemo(
    () =>
      edges.map((e) => {
        const cls = problemEdges.has(e.id) ? "edge-problem" : "";
        return cls || e.className ? { ...e, className: cls, animated: false } : e;
      }),
    [edges, problemEdges],
  );

  // ---------------------------------------------------------------- canvas changes
  const onNodesChange = useCallback(
    (changes: NodeChange<CanvasNode>[]) => {
      if (readOnly) {
        const allowed = changes.filter((c) => c.type === "select" || c.type === "dimensions");
        if (allowed.length) setNodes((ns) => applyNodeChanges(allowed, ns));
        return;
      }
      if (changes.some((c) => c.type === "remove")) {
        remember();
        const removed = new Set(changes.filter((c) => c.type === "remove").map((c) => (c as { id: string }).id));
        setEdges((es) => es.filter((e) => !removed.has(e.source) && !removed.has(e.target)));
      }
      const moved = new Set(changes.filter((c) => c.type === "position" && c.position).map((c) => (c as { id: string }).id));
      setNodes((ns) => {
        const next = applyNodeChanges(changes, ns);
        if (!moved.size) return next;
        return next.map((n) => (moved.has(n.id) && !n.data.placed ? { ...n, data: { ...n.data, placed: true } } : n));
      });
    },
    [readOnly, remember],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<CanvasEdge>[]) => {
      if (readOnly) {
        const allowed = changes.filter((c) => c.type === "select");
        if (allowed.length) setEdges((es) => applyEdgeChanges(allowed, es));
        return;
      }
      if (changes.some((c) => c.type === "remove")) remember();
      setEdges((es) => applyEdgeChanges(changes, es));
    },
    [readOnly, remember],
  );

  const flowNodes = () => (state.current?.nodes ?? []).map((n) => n.data.node);
  const flowEdges = () => (state.current?.edges ?? []).map(fromCanvasEdge);

  const isValidConnection: IsValidConnection<CanvasEdge> = useCallback(
    (c) => connectionProblem({ source: c.source, sourceHandle: c.sourceHandle, target: c.target }, flowNodes(), flowEdges(), catalogue ?? new Map(), portsRef.current) === null,
    [catalogue],
  );

  const [connectHint, setConnectHint] = useState("");
  const onConnect = useCallback(
    (c: Connection) => {
      const problem = connectionProblem(c, flowNodes(), flowEdges(), catalogue ?? new Map(), portsRef.current);
      if (problem) {
        setConnectHint(connectText(problem, t));
        return;
      }
      remember();
      const taken = new Set((state.current?.edges ?? []).map((e) => e.id));
      const id = edgeId(c.source, c.sourceHandle!, c.target, taken);
      setEdges((es) => [...es, toCanvasEdge({ id, source: c.source, source_port: c.sourceHandle!, target: c.target })]);
    },
    [catalogue, remember],
  );

  const addNode = useCallback(
    (type: string, at?: { x: number; y: number }) => {
      if (readOnly || !catalogue) return;
      const info = catalogue.get(type);
      if (!info) return;
      const current = state.current;
      if (!current) return;
      if (type === "start" && current.nodes.some((n) => n.data.node.type === "start")) {
        setMessage({ kind: "error", text: t("edOneStart") });
        return;
      }
      remember();
      const taken = new Set(current.nodes.map((n) => n.id));
      const id = freshId(type, taken);
      const node: FlowNode = { id, type };
      // The catalogue's example, fitted to this flow's subject type (no invoice fields on a debtor flow).
      const params = fitExample(info.examples?.[lang] ?? info.example, subjectType as SubjectTypeInfo | null, otherTypes);
      if (params && Object.keys(params).length) node.params = params;
      let want = at;
      if (!want) {
        const box = wrapper.current?.getBoundingClientRect();
        const centre = rf.screenToFlowPosition({ x: (box?.left ?? 0) + (box?.width ?? 800) / 2, y: (box?.top ?? 0) + (box?.height ?? 600) / 2 });
        want = { x: centre.x - NEW_NODE_SIZE.width / 2, y: centre.y - NEW_NODE_SIZE.height / 2 };
      }
      const position = freeSpot(current.nodes.map(boxOf), want);
      const canvasNode = { ...toCanvasNode(node, { x: Math.round(position.x), y: Math.round(position.y) }, true), selected: true };
      setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), canvasNode]);
      setEdges((es) => es.map((e) => (e.selected ? { ...e, selected: false } : e)));
    },
    [catalogue, lang, otherTypes, readOnly, remember, rf, subjectType],
  );

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const type = e.dataTransfer.getData("application/procedo-node-type");
      if (!type) return;
      e.preventDefault();
      addNode(type, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    },
    [addNode, rf],
  );

  const updateNode = useCallback(
    (id: string, node: FlowNode) => {
      const current = state.current;
      if (!current) return;
      // Typing in one field is one undo step per pause, not per key.
      const now = Date.now();
      if (lastEdit.current.id !== id || now - lastEdit.current.at > 800) remember();
      lastEdit.current = { id, at: now };
      setNodes((ns) => ns.map((n) => (n.id === id ? { ...n, data: { ...n.data, node } } : n)));
    },
    [remember],
  );
  const lastEdit = useRef({ id: "", at: 0 });

  const updateMeta = useCallback(
    (next: Flow) => {
      const now = Date.now();
      if (lastEdit.current.id !== "$flow" || now - lastEdit.current.at > 800) remember();
      lastEdit.current = { id: "$flow", at: now };
      setMeta(next);
    },
    [remember],
  );

  const layout = useCallback(async () => {
    const current = state.current;
    if (!current || readOnly) return;
    setBusy("layout");
    try {
      const spots = await autoLayout(current.nodes, current.edges);
      remember();
      setNodes((ns) => ns.map((n) => (spots.has(n.id) ? { ...n, position: spots.get(n.id)!, data: { ...n.data, placed: true } } : n)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await rf.fitView({ padding: 0.15, duration: 300, maxZoom: 1 });
      await new Promise((resolve) => setTimeout(resolve, 320));
    } finally {
      setBusy("");
    }
  }, [readOnly, remember, rf]);

  // ---------------------------------------------------------------- clipboard
  const copySelection = useCallback((): string => {
    const current = state.current;
    if (!current) return "";
    const selected = new Set(current.nodes.filter((n) => n.selected).map((n) => n.id));
    if (!selected.size) return "";
    const fragment = copyFragment(current.nodes.map(fromCanvasNode), current.edges.map(fromCanvasEdge), selected);
    const text = JSON.stringify(fragment, null, 2);
    clipboard.current = text;
    return text;
  }, []);

  const paste = useCallback(
    (fragment: Fragment) => {
      const current = state.current;
      if (!current || readOnly || !fragment.nodes.length) return;
      remember();
      const ready = pasteFragment(
        fragment,
        new Set(current.nodes.map((n) => n.id)),
        new Set(current.edges.map((e) => e.id)),
        current.nodes.some((n) => n.data.node.type === "start"),
        { x: 40, y: 40 },
      );
      const center = rf.screenToFlowPosition({ x: window.innerWidth / 2, y: window.innerHeight / 2 });
      const added = ready.nodes.map((n, i) => ({
        ...toCanvasNode(n, n.position ?? { x: center.x + (i % 5) * 240, y: center.y + Math.floor(i / 5) * 140 }, true),
        selected: true,
      }));
      setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), ...added]);
      setEdges((es) => [...es, ...ready.edges.map(toCanvasEdge)]);
    },
    [readOnly, remember, rf],
  );

  useEffect(() => {
    const onCopy = (e: ClipboardEvent) => {
      if (typing(e.target)) return;
      const text = copySelection();
      if (text && e.clipboardData) {
        e.clipboardData.setData("text/plain", text);
        e.preventDefault();
      }
    };
    const onCut = (e: ClipboardEvent) => {
      if (typing(e.target) || readOnly) return;
      const text = copySelection();
      if (!text) return;
      e.clipboardData?.setData("text/plain", text);
      e.preventDefault();
      remember();
      const gone = new Set(state.current!.nodes.filter((n) => n.selected).map((n) => n.id));
      setNodes((ns) => ns.filter((n) => !gone.has(n.id)));
      setEdges((es) => es.filter((x) => !gone.has(x.source) && !gone.has(x.target)));
    };
    const onPaste = (e: ClipboardEvent) => {
      if (typing(e.target)) return;
      const text = e.clipboardData?.getData("text/plain") || clipboard.current;
      const fragment = text ? readFragment(text) : null;
      if (fragment) {
        e.preventDefault();
        paste(fragment);
      }
    };
    document.addEventListener("copy", onCopy);
    document.addEventListener("cut", onCut);
    document.addEventListener("paste", onPaste);
    return () => {
      document.removeEventListener("copy", onCopy);
      document.removeEventListener("cut", onCut);
      document.removeEventListener("paste", onPaste);
    };
  }, [copySelection, paste, readOnly, remember]);

  // ---------------------------------------------------------------- save, publish
  const save = useCallback(async (): Promise<boolean> => {
    const current = state.current;
    if (!current || readOnly) return false;
    const flow = canvasToFlow(current.meta, current.nodes, current.edges);
    setSaving(true);
    setMessage(null);
    try {
      const { etag: next, data } = await api.saveDraft(flowKey, flow, etag);
      setEtag(next);
      const json = stableJson(flow);
      setSavedJson(json);
      setCurrentJson(json);
      if (data && typeof data === "object" && "updated_at" in data) setRecord((r) => ({ ...(r ?? { latest_version: null }), ...data }) as typeof r);
      setMessage({ kind: "ok", text: t("saved") });
      return true;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 409 || e.status === 412)) {
        setConflict({ by: String(e.body.changed_by ?? ""), at: String(e.body.changed_at ?? "") });
      } else if (e instanceof ApiError) {
        if (e.problems.length) setProblems(e.problems);
        setMessage({ kind: "error", text: e.detail });
      } else setMessage({ kind: "error", text: String(e) });
      return false;
    } finally {
      setSaving(false);
    }
  }, [etag, flowKey, readOnly, t]);

  const publish = useCallback(async () => {
    if (dirty && !(await save())) return;
    try {
      const published = latest.current || currentJson;
      const v = await api.publish(flowKey);
      setPublishedJson(published);
      setMessage({ kind: "ok", text: `${t("published")}: ${t("version")} ${v?.number ?? ""}` });
      const rec = await api.flow(flowKey);
      setEtag(rec.etag);
      setRecord(rec);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        // No draft: the latest version is current (someone published it meanwhile).
        setMessage({ kind: "error", text: t("nothingToPublish", { n: record?.latest_version ?? "" }) });
      } else if (e instanceof ApiError) {
        if (e.problems.length) setProblems(e.problems);
        setMessage({ kind: "error", text: e.detail });
      } else setMessage({ kind: "error", text: String(e) });
    }
  }, [currentJson, dirty, flowKey, record?.latest_version, save, t]);

  const exportFile = useCallback(async () => {
    try {
      download(`${flowKey}${version ? `-v${version}` : ""}.json`, await api.exportText(flowKey, version));
    } catch (e) {
      setMessage({ kind: "error", text: e instanceof ApiError ? e.detail : String(e) });
    }
  }, [flowKey, version]);

  // ---------------------------------------------------------------- keyboard
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === "s") {
        e.preventDefault();
        void save();
        return;
      }
      if (typing(e.target)) return;
      if (mod && e.key.toLowerCase() === "z" && !e.shiftKey) { e.preventDefault(); undo(); }
      else if (mod && (e.key.toLowerCase() === "y" || (e.key.toLowerCase() === "z" && e.shiftKey))) { e.preventDefault(); redo(); }
      else if (mod && e.key.toLowerCase() === "a") {
        e.preventDefault();
        setNodes((ns) => ns.map((n) => ({ ...n, selected: true })));
      } else if (mod && e.key.toLowerCase() === "c") {
        const text = copySelection();
        if (text) navigator.clipboard?.writeText(text).catch(() => undefined);
      } else if (!mod && !e.altKey && e.key.toLowerCase() === "l") void layout();
      else if (!mod && !e.altKey && e.key.toLowerCase() === "f") rf.fitView({ padding: 0.15, duration: 300, maxZoom: 1 });
      else if (e.key === "?") setPanel((p) => (p === "help" ? "none" : "help"));
      else if (e.key === "Escape") {
        setPanel("none");
        setNodes((ns) => ns.map((n) => (n.selected ? { ...n, selected: false } : n)));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [copySelection, layout, redo, rf, save, undo]);

  // ---------------------------------------------------------------- jumping to problems
  const jumpTo = useCallback(
    (p: Problem) => {
      const current = state.current;
      if (!current) return;
      let nodeId = p.node ?? null;
      if (!nodeId && p.edge) {
        const edge = current.edges.find((e) => e.id === p.edge);
        if (edge) {
          setEdges((es) => es.map((e) => ({ ...e, selected: e.id === edge.id })));
          nodeId = edge.source;
        }
      }
      if (!nodeId) {
        setNodes((ns) => ns.map((n) => (n.selected ? { ...n, selected: false } : n)));
        return;
      }
      const node = current.nodes.find((n) => n.id === nodeId);
      if (!node) return;
      setNodes((ns) => ns.map((n) => (n.id === nodeId ? { ...n, selected: true } : n.selected ? { ...n, selected: false } : n)));
      const w = node.measured?.width ?? 220;
      const h = node.measured?.height ?? 80;
      rf.setCenter(node.position.x + w / 2, node.position.y + h / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 300 });
    },
    [rf],
  );

  // ---------------------------------------------------------------- versions & diff
  const compare = useCallback(
    async (a: number | "draft", b: number | "draft") => {
      const get = async (v: number | "draft") =>
        v === "draft" ? canvasToFlow(state.current!.meta, state.current!.nodes, state.current!.edges) : docOf(await api.version(flowKey, v));
      try {
        const [fa, fb] = await Promise.all([get(a), get(b)]);
        setDiff({ a, b, changes: diffFlows(fa, fb) });
      } catch (e) {
        setMessage({ kind: "error", text: e instanceof ApiError ? e.detail : String(e) });
      }
    },
    [flowKey],
  );

  // ---------------------------------------------------------------- render
  const selected = nodes.filter((n) => n.selected);
  const selectedNode = selected.length === 1 ? selected[0]! : null;
  const ruleContext: RuleContext = useMemo(
    () => ({ subjectType: meta?.subject_type ?? "", fields: fieldsFrom(subjectType, lang) }),
    [meta?.subject_type, subjectType, lang],
  );

  const problemContext: ProblemContext = {
    nodeLabel: (id) => {
      const node = nodes.find((n) => n.id === id)?.data.node;
      const info = node ? catalogue?.get(node.type) : undefined;
      return node?.label || (info ? pick(info.labels, lang) : id);
    },
    fieldTitle: (id, path) => {
      const node = nodes.find((n) => n.id === id)?.data.node;
      const schema = node ? catalogue?.get(node.type)?.params_schema : undefined;
      return schema ? paramTitle(schema, path, lang) : null;
    },
    portLabel: (id, port) => {
      const node = nodes.find((n) => n.id === id)?.data.node;
      const found = node ? portsFor(catalogue?.get(node.type), node, serverPorts.get(id)).find((p) => p.name === port) : undefined;
      return found ? pick(found.label, lang) : port;
    },
    edges: edges.map(fromCanvasEdge),
  };

  if (loadError) {
    return (
      <div className="page">
        <div className="error-box" role="alert">{loadError}</div>
        <button onClick={() => navigate("/")}>{t("flows")}</button>
      </div>
    );
  }
  if (!meta || !catalogue) return <div className="centered muted">{t("loading")}</div>;

  const publishing = publishState({
    problems: problems.length,
    checking: validating || pending || currentJson !== validated.current,
    current: currentJson,
    published: publishedJson,
  });
  const publishBlocked = publishing !== "ready";
  const publishHint = { ready: "", problems: t("fixProblems"), checking: t("checking"), unchanged: t("nothingToPublish", { n: record?.latest_version ?? "" }) }[publishing];
  return (
    <CanvasContext.Provider value={ctxValue}>
      <div className="editor" data-testid="editor" data-readonly={readOnly ? "true" : "false"} data-busy={busy || undefined}>
        <div className="toolbar">
          <button className="ghost" onClick={() => navigate("/")} title={t("flows")}>←</button>
          <div className="flow-title">
            <strong>{meta.name}</strong> <code className="muted">{meta.key}</code>
            {version !== undefined ? (
              <span className="badge readonly">{t("readOnly")} · {t("version")} {version}</span>
            ) : (
              <span className={`badge ${dirty ? "draft" : "ok"}`} data-testid="save-state">{dirty ? t("unsaved") : t("saved")}</span>
            )}
          </div>
          <div className="spacer" />
          {!readOnly && (
            <>
              <button onClick={undo} disabled={!past.current.length} title={`${t("undo")} (Ctrl+Z)`}>↶</button>
              <button onClick={redo} disabled={!future.current.length} title={`${t("redo")} (Ctrl+Shift+Z)`}>↷</button>
              <button onClick={() => void layout()} title={`${t("layout")} (L)`}><ToolLabel icon="layout" text={t("layout")} /></button>
            </>
          )}
          <button onClick={() => rf.fitView({ padding: 0.15, duration: 300, maxZoom: 1 })} title={`${t("fitView")} (F)`}><ToolLabel icon="fit" text={t("fitView")} /></button>
          <button onClick={() => { setJsonText(copySelection() || JSON.stringify(canvasToFlow(meta, nodes, edges), null, 2)); setPanel(panel === "json" ? "none" : "json"); }} title="JSON">{"{ }"}</button>
          <button onClick={() => setPanel(panel === "versions" ? "none" : "versions")} title={t("versions")}><ToolLabel icon="versions" text={t("versions")} /></button>
          {record?.latest_version ? <button onClick={() => navigate(`/running/${encodeURIComponent(flowKey)}`)} title={t("running")}><ToolLabel icon="running" text={t("running")} /></button> : null}
          <button onClick={exportFile} title={t("export")}><ToolLabel icon="export" text={t("export")} /></button>
          <button onClick={() => setPanel(panel === "help" ? "none" : "help")} title={`${t("shortcuts")} (?)`}>?</button>
          {version !== undefined ? (
            <button className="primary" onClick={() => navigate(`/flows/${encodeURIComponent(flowKey)}`)}>{t("backToDraft")}</button>
          ) : (
            !readOnly && (
              <>
                <button onClick={() => void save()} disabled={saving || !dirty} data-testid="save">{t("save")}</button>
                <button className="primary" onClick={() => void publish()} disabled={publishBlocked} data-testid="publish" data-state={publishing} title={publishHint}>{t("publish")}</button>
              </>
            )
          )}
        </div>
        {conflict && (
          <div className="banner warn" role="alert" data-testid="conflict">
            {t("conflict")}
            {conflict.by ? ` (${conflict.by}${conflict.at ? `, ${when(conflict.at, lang)}` : ""})` : ""}.
            <button onClick={() => void load()}>{t("reload")}</button>
            <button className="ghost" onClick={() => setConflict(null)}>{t("close")}</button>
          </div>
        )}
        {message && (
          <div className={`toast ${message.kind}`} role="status" onClick={() => setMessage(null)}>{message.text}</div>
        )}
        <div className="editor-body">
          {!readOnly && <Palette catalogue={catalogue} onAdd={(type) => addNode(type)} />}
          <div className="canvas" ref={wrapper} onDragOver={(e) => { if (e.dataTransfer.types.includes("application/procedo-node-type")) { e.preventDefault(); e.dataTransfer.dropEffect = "move"; } }} onDrop={onDrop}>
            <ReactFlow<CanvasNode, CanvasEdge>
              nodes={nodes}
              edges={shownEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onConnectStart={() => setConnectHint("")}
              isValidConnection={isValidConnection}
              onNodeDragStart={() => remember()}
              nodesDraggable={!readOnly}
              nodesConnectable={!readOnly}
              edgesReconnectable={false}
              deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
              multiSelectionKeyCode={["Meta", "Control"]}
              selectionKeyCode="Shift"
              minZoom={0.1}
              maxZoom={2}
              onlyRenderVisibleElements={nodes.length > BIG_FLOW}
              defaultEdgeOptions={{ type: "smoothstep" }}
              proOptions={{ hideAttribution: true }}
              fitView={nodes.length <= BIG_FLOW}
              fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
            >
              <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
              <MiniMap pannable zoomable nodeColor={(n) => ((n as CanvasNode).data && problemsByNode.has(n.id) ? "#ef4444" : "#94a3b8")} />
              <Controls showInteractive={false} />
            </ReactFlow>
            {connectHint && <div className="connect-hint" onClick={() => setConnectHint("")}>{connectHint}</div>}
          </div>
          <aside className="side">
            <Suspense fallback={<div className="params-panel muted">…</div>}>
            {!formsReady ? (
              <div className="params-panel muted">…</div>
            ) : selectedNode ? (
              <ParamsPanel
                key={selectedNode.id}
                node={selectedNode.data.node}
                info={catalogue.get(selectedNode.data.node.type)}
                problems={problemsByNode.get(selectedNode.id) ?? []}
                ruleContext={ruleContext}
                readOnly={readOnly}
                onChange={(node) => updateNode(selectedNode.id, node)}
                describe={(p) => describeProblem(p, lang, problemContext).text}
              />
            ) : selected.length > 1 ? (
              <div className="params-panel"><div className="muted">{t("manySelected", { n: selected.length })}</div></div>
            ) : (
              <FlowSettings meta={meta} readOnly={readOnly} ruleContext={ruleContext} onChange={updateMeta} hint={t("nothingSelected")} />
            )}
            </Suspense>
            {!readOnly && (
              <div className="problems" data-testid="problems" data-state={pending || validating ? "pending" : "done"}>
                <div className="problems-head">
                  {t("problems")} <span className={`count ${problems.length ? "bad" : "good"}`} data-testid="problem-count">{problems.length}</span>
                  {(validating || pending) && <span className="muted small-text"> {t("validating")}</span>}
                </div>
                {problems.length === 0 ? (
                  <div className="muted small-text">{t("noProblems")}</div>
                ) : (
                  <ul>
                    {problems.map((p, i) => {
                      const said = describeProblem(p, lang, problemContext);
                      return (
                        <li key={i} onClick={() => jumpTo(p)} className="problem-item" data-code={p.code} title={said.code}>
                          <div className="problem-text">{said.text}</div>
                          <div className="muted small-text problem-code">{t("problemCodeHint")}: <code>{p.code}</code></div>
                        </li>
                      );
                    })}
                  </ul>
                )}
              </div>
            )}
          </aside>
          {panel === "help" && (
            <div className="overlay-panel" data-testid="shortcuts">
              <div className="overlay-head">{t("shortcuts")}<button className="ghost" onClick={() => setPanel("none")}>×</button></div>
              <table className="shortcuts">
                <tbody>{SHORTCUTS.map(([k, v]) => { const i = lang === "nl" ? 1 : lang === "de" ? 2 : 0; const keys = typeof k === "string" ? k : k[i]; return <tr key={keys}><td><kbd>{keys}</kbd></td><td>{v[i]}</td></tr>; })}</tbody>
              </table>
            </div>
          )}
          {panel === "json" && (
            <div className="overlay-panel wide" data-testid="json-panel">
              <div className="overlay-head">JSON<button className="ghost" onClick={() => setPanel("none")}>×</button></div>
              <p className="muted small-text">{t("jsonHelp")}</p>
              <textarea className="json-text" spellCheck={false} value={jsonText} onChange={(e) => setJsonText(e.target.value)} />
              <div className="modal-actions">
                <button onClick={() => navigator.clipboard?.writeText(jsonText).catch(() => undefined)}>{t("edCopy")}</button>
                {!readOnly && (
                  <button className="primary" onClick={() => { const f = readFragment(jsonText); if (f) { paste(f); setPanel("none"); } else setMessage({ kind: "error", text: t("edNotFlowJson") }); }}>{t("pasteJson")}</button>
                )}
              </div>
            </div>
          )}
          {panel === "versions" && (
            <VersionsPanel
              flowKey={flowKey}
              versions={versions}
              current={version}
              diff={diff}
              onCompare={compare}
              onClearDiff={() => setDiff(null)}
              onClose={() => setPanel("none")}
              onJump={(id) => jumpTo({ code: "", message: "", node: id })}
            />
          )}
        </div>
      </div>
    </CanvasContext.Provider>
  );
}

function VersionsPanel(props: {
  flowKey: string;
  versions: VersionInfo[];
  current?: number;
  diff: { a: number | "draft"; b: number | "draft"; changes: Map<string, Change> } | null;
  onCompare: (a: number | "draft", b: number | "draft") => void;
  onClearDiff: () => void;
  onClose: () => void;
  onJump: (node: string) => void;
}) {
  const { t, lang } = useT();
  const options: (number | "draft")[] = [...props.versions.map((v) => v.number).sort((x, y) => y - x), "draft"];
  const [a, setA] = useState<number | "draft">(options.length > 2 ? options[1]! : options[0] ?? "draft");
  const [b, setB] = useState<number | "draft">(props.current ?? "draft");
  const label = (v: number | "draft") => (v === "draft" ? t("draft") : `${t("version")} ${v}`);
  const parse = (s: string) => (s === "draft" ? "draft" : Number(s));
  return (
    <div className="overlay-panel" data-testid="versions-panel">
      <div className="overlay-head">{t("versions")}<button className="ghost" onClick={props.onClose}>×</button></div>
      {props.versions.length === 0 && <div className="muted">—</div>}
      <ul className="version-list">
        {[...props.versions].sort((x, y) => y.number - x.number).map((v) => (
          <li key={v.number} className={props.current === v.number ? "current" : ""}>
            <a href={`/flows/${props.flowKey}/versions/${v.number}`} onClick={(e) => { e.preventDefault(); navigate(`/flows/${encodeURIComponent(props.flowKey)}/versions/${v.number}`); }}>
              {t("version")} {v.number}
            </a>
            <span className="muted small-text"> {when(v.published_at, lang)} {v.published_by ? `${t("by")} ${v.published_by}` : ""}</span>
          </li>
        ))}
      </ul>
      <div className="compare-row">
        <select value={String(a)} onChange={(e) => setA(parse(e.target.value))} aria-label={t("edFrom")}>{options.map((o) => <option key={o} value={String(o)}>{label(o)}</option>)}</select>
        →
        <select value={String(b)} onChange={(e) => setB(parse(e.target.value))} aria-label={t("edTo")}>{options.map((o) => <option key={o} value={String(o)}>{label(o)}</option>)}</select>
        <button onClick={() => props.onCompare(a, b)}>{t("compare")}</button>
      </div>
      {props.diff && (
        <div className="diff" data-testid="diff">
          <div className="muted small-text">{t("changedNodes")}: {label(props.diff.a)} → {label(props.diff.b)} <button className="small ghost" onClick={props.onClearDiff}>×</button></div>
          {props.diff.changes.size === 0 && <div className="muted">—</div>}
          <ul>
            {[...props.diff.changes.entries()].map(([id, change]) => (
              <li key={id} className={`diff-item diff-${change}`} onClick={() => props.onJump(id)}><span className="badge">{t(change === "added" ? "edAdded" : change === "removed" ? "edRemoved" : change === "moved" ? "edMoved" : "edChanged")}</span> <code>{id}</code></li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

