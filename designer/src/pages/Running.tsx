// Running flows: per version, how many instances wait at each node; an instance's
// path and history on the canvas; an admin drags its marker to another node (E8), and
// retries or cancels (with a reason) an instance; a failed one shows its error in words.
import { useCallback, useEffect, useMemo, useState } from "react";
import { Background, BackgroundVariant, Controls, MiniMap, ReactFlow, ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { api, ApiError, asList } from "../api";
import { useCatalogue } from "../catalogue";
import { pick, useT } from "../i18n";
import { flowTitle } from "../flowLabels";
import { navigate, useLocation } from "../router";
import { useUser } from "../user";
import { flowToCanvas, type CanvasEdge, type CanvasNode } from "../flow/mapping";
import { CanvasContext, nodeTypes, type CanvasContextValue } from "../components/NodeView";
import { portsFor, useFlowPorts } from "../flow/ports";
import { docOf } from "../flow/document";
import type { Flow, InstanceSummary, VersionInfo } from "../types";
import { HistoryList } from "../components/HistoryList";
import type { HistoryEntry, Namers } from "../history/describe";
import { ENDED, mayCancel, mayRetry } from "../work/logic";
import { CancelDialog, FailureBox, statusText } from "../work/parts";

export function RunningPage({ flowKey }: { flowKey: string }) {
  return (
    <ReactFlowProvider>
      <Running flowKey={flowKey} />
    </ReactFlowProvider>
  );
}

function Running({ flowKey }: { flowKey: string }) {
  const { t, lang } = useT();
  const user = useUser();
  const catalogue = useCatalogue();
  const rf = useReactFlow();
  const [versions, setVersions] = useState<VersionInfo[]>([]);
  const [version, setVersion] = useState<number | null>(null);
  const [doc, setDoc] = useState<Flow | null>(null);
  const [nodes, setNodes] = useState<CanvasNode[]>([]);
  const [edges, setEdges] = useState<CanvasEdge[]>([]);
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [instances, setInstances] = useState<InstanceSummary[]>([]);
  const [showAll, setShowAll] = useState(false);
  const [selected, setSelected] = useState<InstanceSummary | null>(null);
  const [history, setHistory] = useState<HistoryEntry[]>([]);
  const [cancelling, setCancelling] = useState(false);
  const [notice, setNotice] = useState("");
  const { query } = useLocation();
  const asked = query.get("instance");
  const [moveTo, setMoveTo] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const isAdmin = user?.access === "admin";

  useEffect(() => {
    api.versions(flowKey).then(
      (v) => {
        const list = Array.isArray(v) ? v : [];
        setVersions(list);
        if (list.length) setVersion(Math.max(...list.map((x) => x.number)));
      },
      (e) => setError(e instanceof ApiError ? e.detail : String(e)),
    );
  }, [flowKey]);

  const loadVersion = useCallback(async () => {
    if (version === null) return;
    try {
      const d = docOf(await api.version(flowKey, version));
      setDoc(d);
      const canvas = flowToCanvas(d);
      setNodes(canvas.nodes);
      setEdges(canvas.edges);
      setCounts(await api.counts(flowKey, version).catch(() => ({})));
      setTimeout(() => rf.fitView({ padding: 0.15 }), 50);
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }, [flowKey, version, rf]);
  useEffect(() => { void loadVersion(); }, [loadVersion]);

  const loadInstances = useCallback(async () => {
    const params: Record<string, string> = { flow: flowKey };
    const data = await api.instances(params).catch(() => []);
    const list = asList<InstanceSummary>(data);
    setInstances(list);
    return list;
  }, [flowKey]);
  useEffect(() => { void loadInstances(); }, [loadInstances]);

  // Opened from the instances list or all tasks: that instance, selected.
  useEffect(() => {
    if (!asked) return;
    void api.instance(asked).then(
      (detail) => { const d = detail as unknown as InstanceSummary & { subject?: { id: string; key: string } }; void open({ ...d, subject_id: d.subject?.id ?? "", subject_key: d.subject?.key ?? "" }); },
      () => undefined,
    );
  }, [asked]); // eslint-disable-line react-hooks/exhaustive-deps

  const open = useCallback(
    async (inst: InstanceSummary) => {
      setError("");
      try {
        const detail = (await api.instance(inst.id)) as unknown as InstanceSummary;
        setSelected({ ...inst, ...detail });
        if (detail.version && detail.version !== version) setVersion(detail.version);
        setHistory(asList<HistoryEntry>(await api.history(inst.id)));
      } catch (e) {
        setError(e instanceof ApiError ? e.detail : String(e));
      }
    },
    [version],
  );

  const path = useMemo(() => {
    const nodesOn = new Set<string>();
    const edgesOn = new Set<string>();
    for (const row of history) {
      if (row.node) nodesOn.add(row.node);
      if (row.to_node) nodesOn.add(row.to_node);
      if (row.node && row.port && doc) {
        for (const e of doc.edges) if (e.source === row.node && e.source_port === row.port) { edgesOn.add(e.id); nodesOn.add(e.target); }
      }
    }
    return { nodesOn, edgesOn };
  }, [history, doc]);

  const flowPorts = useFlowPorts(doc);
  const latestVersion = versions.length ? Math.max(...versions.map((v) => v.number)) : null;
  const ctx: CanvasContextValue = useMemo(
    () => ({
      catalogue: catalogue ?? new Map(),
      ports: flowPorts,
      lang,
      problemsByNode: new Map(),
      usedPorts: new Map(),
      counts,
      path: selected ? path.nodesOn : undefined,
      positions: selected ? new Set(selected.positions ?? []) : undefined,
      markerDraggable: isAdmin && !!selected && !ENDED.has(selected.status),
      onMarkerDrop: isAdmin && selected ? (id: string) => { if (!selected.positions.includes(id)) { setMoveTo(id); setReason(""); } } : undefined,
    }),
    [catalogue, flowPorts, lang, counts, selected, path, isAdmin],
  );

  const shownEdges = useMemo(
    () => (selected ? edges.map((e) => (path.edgesOn.has(e.id) ? { ...e, className: "on-path", animated: true } : e)) : edges),
    [edges, path, selected],
  );

  async function refreshSelected(id: string) {
    const list = await loadInstances();
    const row = list.find((i) => i.id === id);
    if (row) await open(row);
    else if (selected) await open(selected);
    if (version !== null) setCounts(await api.counts(flowKey, version).catch(() => ({})));
  }

  async function retry(onVersion?: number) {
    if (!selected) return;
    setError("");
    try {
      const after = await api.retryInstance(selected.id, onVersion);
      setNotice(after.status === "failed" ? t("wRetriedFailed") : t("wRetriedOk", { status: statusText(t, after.status) }));
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
    await refreshSelected(selected.id);
  }

  async function cancel(reason: string) {
    if (!selected) return;
    try {
      await api.cancelInstance(selected.id, reason);
      setCancelling(false);
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
      setCancelling(false);
    }
    await refreshSelected(selected.id);
  }

  async function doMove() {
    if (!selected || !moveTo) return;
    try {
      await api.move(selected.id, moveTo, reason);
      setMoveTo(null);
      await open(selected);
      await loadInstances();
      if (version !== null) setCounts(await api.counts(flowKey, version).catch(() => ({})));
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }

  const shown = instances.filter((i) => showAll || !["completed", "cancelled"].includes(i.status));
  // A node by its label, else its type's name (not its id); a port by its label.
  const nodeName = (id: string) => {
    const node = doc?.nodes.find((n) => n.id === id);
    return node ? node.label || pick(catalogue?.get(node.type)?.labels, lang) || id : id;
  };
  const namers: Namers = {
    portLabel: (nodeId: string, port: string) => {
      const node = doc?.nodes.find((n) => n.id === nodeId);
      const ports = node ? portsFor(catalogue?.get(node.type), node, flowPorts?.get(nodeId)) : [];
      const found = ports.find((p) => p.name === port);
      return (found && pick(found.label, lang)) || port;
    },
  };
  return (
    <CanvasContext.Provider value={ctx}>
      <div className="editor" data-testid="running">
        <div className="toolbar">
          <button className="ghost" onClick={() => navigate("/")}>←</button>
          <div className="flow-title"><strong>{flowTitle(doc, lang, flowKey)}</strong> <code className="muted">{flowKey}</code> <span className="badge ok">{t("running")}</span></div>
          <div className="spacer" />
          <label style={{ flexDirection: "row", alignItems: "center", gap: 6 }}>
            {t("version")}
            <select value={version ?? ""} onChange={(e) => setVersion(Number(e.target.value))} aria-label={t("version")}>
              {[...versions].sort((a, b) => b.number - a.number).map((v) => <option key={v.number} value={v.number}>{v.number}</option>)}
            </select>
          </label>
          <button onClick={() => navigate(`/flows/${encodeURIComponent(flowKey)}`)}>{t("open")}</button>
        </div>
        {error && <div className="banner warn" role="alert">{error}<button className="ghost" onClick={() => setError("")}>×</button></div>}
        <div className="running-body">
          <div className="split" style={{ flex: 1 }}>
            <div className="list" data-testid="instances">
              <div className="tabs">
                <button className={!showAll ? "on" : ""} onClick={() => setShowAll(false)}>{t("openOnes")}</button>
                <button className={showAll ? "on" : ""} onClick={() => setShowAll(true)}>{t("allOnes")}</button>
              </div>
              {shown.length === 0 && <div className="list-item muted">—</div>}
              {shown.map((inst) => (
                <div key={inst.id} className={`list-item ${selected?.id === inst.id ? "on" : ""}`} onClick={() => void open(inst)} data-instance={inst.id}>
                  <div className="title">{inst.subject_key ?? inst.subject_id}</div>
                  <div className="muted small-text">
                    v{inst.version} · {statusText(t, inst.status)} · {(inst.positions ?? []).map(nodeName).join(", ") || "—"}
                  </div>
                </div>
              ))}
            </div>
            <div className="canvas">
              <ReactFlow<CanvasNode, CanvasEdge>
                nodes={nodes}
                edges={shownEdges}
                nodeTypes={nodeTypes}
                nodesDraggable={false}
                nodesConnectable={false}
                elementsSelectable={false}
                onNodeClick={() => undefined}
                deleteKeyCode={null}
                proOptions={{ hideAttribution: true }}
                defaultEdgeOptions={{ type: "smoothstep" }}
                minZoom={0.1}
                fitView
              >
                <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
                <MiniMap pannable zoomable nodeColor={(n) => (selected?.positions?.includes(n.id) ? "#22c55e" : "#94a3b8")} />
                <Controls showInteractive={false} />
              </ReactFlow>
            </div>
          </div>
          {selected && (
            <aside className="running-side" data-testid="instance-detail">
              <div className="params-panel">
                <div className="panel-head"><div className="panel-type">{selected.subject_key ?? selected.subject_id}</div><div className="muted small-text">{selected.id}</div></div>
                <div>{t("status")}: <strong data-testid="instance-status">{statusText(t, selected.status)}</strong> · v{selected.version}</div>
                <div>{t("path")}: {(selected.positions ?? []).map(nodeName).join(", ") || "—"}</div>
                {selected.status === "failed" && <FailureBox error={selected.error} failedNode={selected.failed_node} nodeLabel={nodeName} />}
                {notice && <div className="work-notice" role="status">{notice}</div>}
                {isAdmin && (mayRetry(selected.status) || mayCancel(selected.status)) && (
                  <div className="row-actions" style={{ justifyContent: "flex-start" }}>
                    {mayRetry(selected.status) && <button className="primary" onClick={() => void retry()} data-action="retry">{t("wRetry")}</button>}
                    {mayRetry(selected.status) && latestVersion !== null && latestVersion > selected.version && (
                      <button onClick={() => void retry(latestVersion)} data-action="retry-latest" title={t("wRetryLatestHelp")}>{t("wRetryLatest", { n: latestVersion })}</button>
                    )}
                    {mayCancel(selected.status) && <button className="danger" onClick={() => setCancelling(true)} data-action="cancel">{t("wCancelInstance")}</button>}
                  </div>
                )}
                {isAdmin && !ENDED.has(selected.status) && <div className="hint small-text">{t("dragMarker")}</div>}
                <h3 style={{ margin: "8px 0 0" }}>{t("history")}</h3>
                <HistoryList entries={history} nodeLabel={nodeName} namers={namers} />
              </div>
            </aside>
          )}
        </div>
        {cancelling && selected && <CancelDialog count={1} onCancel={() => setCancelling(false)} onDone={cancel} />}
        {moveTo && selected && (
          <div className="modal-backdrop">
            <form className="modal" onSubmit={(e) => { e.preventDefault(); void doMove(); }} data-testid="move-dialog">
              <h2>{t("moveHere")}: {nodeName(moveTo)}</h2>
              <div className="muted">{selected.subject_key}: {(selected.positions ?? []).map(nodeName).join(", ")} → {nodeName(moveTo)}</div>
              <label>{t("reason")}<input name="reason" autoFocus required value={reason} onChange={(e) => setReason(e.target.value)} /></label>
              <div className="modal-actions">
                <button type="button" onClick={() => setMoveTo(null)}>{t("cancel")}</button>
                <button type="submit" className="primary" disabled={!reason.trim()}>{t("move")}</button>
              </div>
            </form>
          </div>
        )}
      </div>
    </CanvasContext.Provider>
  );
}
