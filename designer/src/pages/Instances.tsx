// Instances across flows: filtered by status and flow, failed ones first with their error
// in plain words; retry, cancel (with a reason the history keeps), one or a selection.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, asList } from "../api";
import { useT, type TextKey } from "../i18n";
import { flowTitle } from "../flowLabels";
import { navigate } from "../router";
import { useUser } from "../user";
import { HistoryList } from "../components/HistoryList";
import type { HistoryEntry } from "../history/describe";
import type { FlowSummary, InstanceSummary } from "../types";
import { when } from "../util";
import { useNodeLabels } from "../work/labels";
import { CancelDialog, FailureBox, statusText } from "../work/parts";
import {
  bulkSummary,
  eachOf,
  explainError,
  failedFirst,
  mayCancel,
  mayRetry,
  STATUS_CHOICES,
  statusesOf,
  type StatusChoice,
} from "../work/logic";

const STEP = 200;

export function InstancesPage() {
  const { t, lang } = useT();
  const user = useUser();
  const isAdmin = user?.access === "admin";
  const [choice, setChoice] = useState<StatusChoice>("open");
  const [flow, setFlow] = useState("");
  const [limit, setLimit] = useState(STEP);
  const [rows, setRows] = useState<InstanceSummary[] | null>(null);
  const [more, setMore] = useState(false);
  const [flows, setFlows] = useState<FlowSummary[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState<InstanceSummary | null>(null);
  const [history, setHistory] = useState<HistoryEntry[]>([]);
  const [cancelling, setCancelling] = useState<InstanceSummary[] | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");

  useEffect(() => { api.flows().then(setFlows, () => setFlows([])); }, []);

  const latest = useRef(0);
  const load = useCallback(async () => {
    setError("");
    const asked = ++latest.current;
    try {
      const pages = await Promise.all(
        statusesOf(choice).map((status) => {
          const params: Record<string, string> = { limit: String(limit) };
          if (status) params.status = status;
          if (flow) params.flow = flow;
          return api.instanceList(params);
        }),
      );
      if (asked !== latest.current) return; // the filters changed meanwhile
      setMore(pages.some((p) => p.length === limit));
      const all = failedFirst(pages.flat());
      setRows(all);
      setSelected((s) => new Set([...s].filter((id) => all.some((r) => r.id === id))));
      setShown((current) => (current ? all.find((r) => r.id === current.id) ?? current : null));
    } catch (e) {
      setRows((before) => before ?? []);
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }, [choice, flow, limit]);
  useEffect(() => { void load(); }, [load]);

  const label = useNodeLabels(rows ?? []);
  const flowName = useCallback((key: string) => flowTitle(flows.find((f) => f.key === key), lang, key), [flows, lang]);

  const showHistory = useCallback(async (row: InstanceSummary) => {
    setShown(row);
    setHistory(asList<HistoryEntry>(await api.history(row.id).catch(() => [])));
  }, []);

  async function retry(chosen: InstanceSummary[]) {
    setNotice("");
    if (chosen.length === 1) {
      try {
        const after = await api.retryInstance(chosen[0]!.id);
        setNotice(after.status === "failed" ? t("wRetriedFailed") : t("wRetriedOk", { status: statusText(t, after.status) }));
      } catch (e) {
        setError(e instanceof ApiError ? e.detail : String(e));
      }
    } else {
      const results = await eachOf(chosen, (r) => r.subject_key, async (r) => {
        const after = await api.retryInstance(r.id);
        if (after.status === "failed") throw new Error(t("wRetriedFailed"));
      });
      setNotice(bulkSummary(results, lang, "wBulkRetried"));
    }
    await load();
    if (shown && chosen.some((c) => c.id === shown.id)) await showHistory(shown);
  }

  async function cancel(chosen: InstanceSummary[], reason: string) {
    const results = await eachOf(chosen, (r) => r.subject_key, (r) => api.cancelInstance(r.id, reason));
    setCancelling(null);
    setNotice(bulkSummary(results, lang, "wBulkCancelled"));
    await load();
    if (shown && chosen.some((c) => c.id === shown.id)) await showHistory(shown);
  }

  const chosen = useMemo(() => (rows ?? []).filter((r) => selected.has(r.id)), [rows, selected]);
  const allOn = !!rows?.length && rows.every((r) => selected.has(r.id));
  const toggle = (id: string) => setSelected((s) => { const next = new Set(s); if (next.has(id)) next.delete(id); else next.add(id); return next; });
  const openRunning = (r: InstanceSummary) => navigate(`/running/${encodeURIComponent(r.flow)}?instance=${r.id}`);

  return (
    <div className="page work-page wide" data-testid="instances-page">
      <div className="page-head">
        <h1>{t("wInstancesTitle")}</h1>
        <div className="spacer" />
        <button onClick={() => void load()} data-testid="refresh">{t("wRefresh")}</button>
      </div>
      <p className="muted">{t("wInstancesIntro")}</p>
      <div className="work-filters" role="search">
        <label>{t("wStatusFilter")}
          <select name="status" value={choice} onChange={(e) => { setChoice(e.target.value as StatusChoice); setLimit(STEP); }}>
            {STATUS_CHOICES.map((c) => <option key={c} value={c}>{t(`wStatus_${c}` as TextKey)}</option>)}
          </select>
        </label>
        <label>{t("wFlowFilter")}
          <select name="flow" value={flow} onChange={(e) => { setFlow(e.target.value); setLimit(STEP); }}>
            <option value="">{t("wAnyFlow")}</option>
            {flows.filter((f) => f.latest_version).map((f) => <option key={f.key} value={f.key}>{flowTitle(f, lang)}</option>)}
          </select>
        </label>
      </div>
      {error && <div className="error-box" role="alert">{error}<button className="ghost small" onClick={() => setError("")} aria-label={t("close")}>×</button></div>}
      {notice && <div className="work-notice" role="status">{notice}<button className="ghost small" onClick={() => setNotice("")} aria-label={t("close")}>×</button></div>}
      {isAdmin ? (
        <div className="work-bulk">
          <span className="muted">{t("wSelected", { n: chosen.length })}</span>
          <button disabled={!chosen.some((r) => mayRetry(r.status))} onClick={() => void retry(chosen.filter((r) => mayRetry(r.status)))} data-testid="bulk-retry">{t("wRetrySelected")}</button>
          <button className="danger" disabled={!chosen.some((r) => mayCancel(r.status))} onClick={() => setCancelling(chosen.filter((r) => mayCancel(r.status)))} data-testid="bulk-cancel">{t("wCancelSelected")}</button>
        </div>
      ) : (
        <p className="muted small-text">{t("wAdminActs")}</p>
      )}
      <div className="work-split">
        <table className="table" data-testid="instances">
          <thead>
            <tr>
              {isAdmin && <th><input type="checkbox" aria-label={t("wSelectAll")} checked={allOn} onChange={() => setSelected(allOn ? new Set() : new Set((rows ?? []).map((r) => r.id)))} /></th>}
              <th>{t("wColSubject")}</th>
              <th>{t("wColFlow")}</th>
              <th>{t("wColStatus")}</th>
              <th>{t("wColWhere")}</th>
              <th>{t("wColChanged")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows === null && <tr><td colSpan={7} className="muted">{t("loading")}</td></tr>}
            {rows?.length === 0 && <tr><td colSpan={7} className="muted">{t("wNoInstances")}</td></tr>}
            {rows?.map((r) => {
              const nodeLabel = (id: string) => label(r.flow, r.version, id);
              const why = explainError(r.error, r.failed_node, nodeLabel, lang);
              return (
                <tr key={r.id} data-instance={r.id} className={`${r.status === "failed" ? "failed" : ""} ${shown?.id === r.id ? "on" : ""}`} onClick={() => void showHistory(r)}>
                  {isAdmin && <td onClick={(e) => e.stopPropagation()}><input type="checkbox" aria-label={t("wSelectRow")} checked={selected.has(r.id)} onChange={() => toggle(r.id)} /></td>}
                  <td className="nowrap"><a href={`/subjects/${r.subject_id}`} onClick={(e) => { e.preventDefault(); e.stopPropagation(); navigate(`/subjects/${r.subject_id}`); }} title={t("wOpenSubject")}>{r.subject_key}</a></td>
                  <td>{flowName(r.flow)} <span className="muted small-text">v{r.version}</span></td>
                  <td><span className={`badge ${r.status === "failed" ? "bad" : r.status === "running" ? "ok" : "readonly"}`}>{statusText(t, r.status)}</span></td>
                  <td>
                    {r.positions.map(nodeLabel).join(", ") || (r.status === "failed" && r.failed_node ? nodeLabel(r.failed_node) : "—")}
                    {why && <div className="work-error" data-testid="error" title={why.code}>{why.text}</div>}
                  </td>
                  <td className="muted nowrap">{when(r.updated_at, lang)}</td>
                  <td onClick={(e) => e.stopPropagation()}><div className="row-actions">
                    {isAdmin && mayRetry(r.status) && <button className="small primary" onClick={() => void retry([r])} data-action="retry">{t("wRetry")}</button>}
                    {isAdmin && mayCancel(r.status) && <button className="small danger" onClick={() => setCancelling([r])} data-action="cancel">{t("wCancelInstance")}</button>}
                    <button className="small" onClick={() => openRunning(r)} title={t("wOpenInstance")} aria-label={t("wOpenInstance")}>↗</button>
                  </div></td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <aside className="work-side" data-testid="instance-detail">
          {shown ? (
            <InstanceSide row={shown} history={history} nodeLabel={(id) => label(shown.flow, shown.version, id)} flowName={flowName(shown.flow)} />
          ) : (
            <p className="muted">{t("wPickInstance")}</p>
          )}
        </aside>
      </div>
      {more && <div className="work-more"><button onClick={() => setLimit((l) => Math.min(1000, l + STEP))} disabled={limit >= 1000}>{t("wLoadMore")}</button></div>}
      {cancelling && <CancelDialog count={cancelling.length} onCancel={() => setCancelling(null)} onDone={(reason) => cancel(cancelling, reason)} />}
    </div>
  );
}

function InstanceSide({ row, history, nodeLabel, flowName }: { row: InstanceSummary; history: HistoryEntry[]; nodeLabel: (id: string) => string; flowName: string }) {
  const { t, lang } = useT();
  return (
    <div>
      <h2>{row.subject_key} <span className="muted small-text">{flowName} v{row.version}</span></h2>
      <div className="muted small-text">{t("wColStarted")}: {when(row.started_at, lang)} · {statusText(t, row.status)}</div>
      <FailureBox error={row.error} failedNode={row.failed_node} nodeLabel={nodeLabel} />
      <h3>{t("history")}</h3>
      {history.length ? <HistoryList entries={history} nodeLabel={nodeLabel} /> : <p className="muted">{t("wNoHistory")}</p>}
    </div>
  );
}
