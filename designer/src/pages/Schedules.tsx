// Scheduled workflows (D1, administrators): rhythm, day, time, last and next run, run now, pause;
// their priority order (D5), changed by dragging a row (HTML5 drag and drop) or its arrow buttons.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { useT } from "../i18n";
import { useFlowTitles } from "../flowLabels";
import type { Schedule } from "../types";
import { navigate } from "../router";
import { moved, priorityApi, skipReason, type OrderedSchedule, type RunNowRecord, type RunSubject } from "../priority/api";
import { useUser } from "../user";
import { when } from "../util";
import { dayText, rhythmText } from "../operations/schedule";
import "../priority/priority.css";

export function SchedulesPage() {
  const { t, lang } = useT();
  const title = useFlowTitles();
  const user = useUser();
  const [schedules, setSchedules] = useState<OrderedSchedule[] | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [asking, setAsking] = useState<OrderedSchedule | null>(null);
  const [result, setResult] = useState<{ name: string; run: RunNowRecord } | null>(null);
  const [dragged, setDragged] = useState<string | null>(null);
  const [announce, setAnnounce] = useState("");

  const load = useCallback(() => {
    api.schedules().then((list) => setSchedules(list as OrderedSchedule[]), (e) => setError(e instanceof ApiError ? e.detail : String(e)));
  }, []);
  useEffect(load, [load]);

  function replace(updated: Schedule) {
    setSchedules((list) => list?.map((s) => (s.flow === updated.flow ? { ...s, ...updated } : s)) ?? null);
  }

  // The shown order is the run order: saved at once, the server's answer shown.
  async function reorder(from: number, to: number) {
    if (!schedules || busy !== null) return;
    const next = moved(schedules, from, to);
    if (next === schedules) return;
    const item = next[to]!;
    setSchedules(next);
    setBusy(item.flow);
    setError("");
    try {
      setSchedules(await priorityApi.setOrder(next.map((s) => s.flow)));
      setAnnounce(t("prioMoved", { name: title(item.flow, item.name), n: to + 1 }));
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
      load();
    } finally {
      setBusy(null);
    }
  }

  function dropOn(target: string) {
    if (!schedules || dragged === null) return;
    const from = schedules.findIndex((s) => s.flow === dragged);
    const to = schedules.findIndex((s) => s.flow === target);
    setDragged(null);
    void reorder(from, to);
  }

  async function act(s: Schedule, action: () => Promise<void>) {
    setBusy(s.flow);
    setError("");
    try {
      await action();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    } finally {
      setBusy(null);
    }
  }

  const runNow = (s: Schedule) =>
    act(s, async () => {
      setAsking(null);
      setResult(null);
      const run = (await api.runSchedule(s.flow)) as RunNowRecord;
      replace(run.schedule);
      setResult({ name: title(s.flow, s.name), run });
    });
  const toggle = (s: Schedule) => act(s, async () => replace(await api.setScheduleActive(s.flow, !s.active)));

  if (user && user.access !== "admin") {
    return <div className="page ops-page" data-testid="schedules-page"><h1>{t("opsSchedulesTitle")}</h1><p className="muted">{t("opsAdminsOnly")}</p></div>;
  }
  return (
    <div className="page ops-page" data-testid="schedules-page">
      <div className="page-head"><h1>{t("opsSchedulesTitle")}</h1></div>
      <p className="muted ops-help">{t("opsSchedulesHelp")}</p>
      <p className="muted ops-help">{t("prioHelp")}</p>
      {error && <div className="error-box" role="alert">{error}</div>}
      <div className="sr-only" role="status" aria-live="polite" data-testid="order-status">{announce}</div>
      {result && <RunResult name={result.name} run={result.run} onClose={() => setResult(null)} />}
      {schedules === null ? (
        <div className="muted">{t("loading")}</div>
      ) : schedules.length === 0 ? (
        <div className="card muted">{t("opsNoSchedules")}</div>
      ) : (
        <table className="table schedules-table">
          <thead>
            <tr>
              <th>{t("prioOrder")}</th><th>{t("opsWorkflow")}</th><th>{t("opsInterval")}</th><th>{t("opsDay")}</th><th>{t("opsHour")}</th>
              <th>{t("opsLastRun")}</th><th>{t("opsNextRun")}</th><th>{t("status")}</th><th />
            </tr>
          </thead>
          <tbody>
            {schedules.map((s, index) => (
              <tr
                key={s.flow}
                data-schedule={s.flow}
                className={[s.active ? "" : "ops-inactive", dragged === s.flow ? "prio-dragging" : ""].join(" ").trim()}
                draggable={busy === null}
                onDragStart={(e) => { setDragged(s.flow); e.dataTransfer.effectAllowed = "move"; e.dataTransfer.setData("text/plain", s.flow); }}
                onDragOver={(e) => { if (dragged !== null) { e.preventDefault(); e.dataTransfer.dropEffect = "move"; } }}
                onDrop={(e) => { e.preventDefault(); dropOn(s.flow); }}
                onDragEnd={() => setDragged(null)}
              >
                <td className="prio-cell">
                  <span className="prio-handle" title={t("prioDrag", { name: title(s.flow, s.name) })} aria-hidden="true">⠿</span>
                  <span className="prio-number" data-testid="priority">{index + 1}</span>
                  <button className="ghost small" disabled={busy !== null || index === 0} onClick={() => void reorder(index, index - 1)} aria-label={t("prioUp", { name: title(s.flow, s.name) })}>↑</button>
                  <button className="ghost small" disabled={busy !== null || index === schedules.length - 1} onClick={() => void reorder(index, index + 1)} aria-label={t("prioDown", { name: title(s.flow, s.name) })}>↓</button>
                </td>
                <td>
                  <a href={`/flows/${s.flow}`} onClick={(e) => { e.preventDefault(); navigate(`/flows/${encodeURIComponent(s.flow)}`); }} data-i18n-skip><strong>{title(s.flow, s.name)}</strong></a>
                  <div className="muted small-text"><code>{s.flow}</code> · {t("version")} {s.version}</div>
                  {s.also_if_acted_on && <div className="muted small-text">{t("prioAlsoActed")}</div>}
                  {s.failures > 0 && (
                    <div className="ops-failing" data-testid="schedule-error">
                      {t("opsFailing", { n: s.failures, when: when(s.last_error_at, lang) })}
                      {s.last_error && <code className="ops-error-text">{s.last_error}</code>}
                    </div>
                  )}
                </td>
                <td>{rhythmText(s, lang)}</td>
                <td>{dayText(s, lang)}</td>
                <td title={s.timezone ? t("opsTimezone", { tz: s.timezone }) : t("opsTenantTime")}>{s.at}</td>
                <td data-testid="last-run">
                  {s.last_run_at ? when(s.last_run_at, lang, s.zone) : <span className="muted">{t("opsNever")}</span>}
                  {s.last_selected != null && (
                    <div className="muted small-text">{t("opsLastCounts", { selected: s.last_selected, started: s.last_started ?? 0 })}</div>
                  )}
                </td>
                <td data-testid="next-run">{s.active ? when(s.next_run_at, lang, s.zone) : <span className="muted">—</span>}</td>
                <td>{s.active ? <span className="badge ok">{t("opsActive")}</span> : <span className="badge readonly">{t("opsInactive")}</span>}</td>
                <td>
                  <div className="row-actions">
                    <button className="small" disabled={busy !== null} onClick={() => setAsking(s)}>{t("opsRunNow")}</button>
                    <button className="small" disabled={busy !== null} onClick={() => toggle(s)}>{s.active ? t("opsDeactivate") : t("opsActivate")}</button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {asking && (
        <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) setAsking(null); }}>
          <div className="modal" role="dialog" aria-modal="true" data-testid="run-now-dialog">
            <h2>{t("opsRunConfirmTitle", { name: title(asking.flow, asking.name) })}</h2>
            <p>{t("opsRunConfirm")}</p>
            {!asking.active && <p className="ops-note">{t("opsRunInactiveNote")}</p>}
            <div className="modal-actions">
              <button onClick={() => setAsking(null)}>{t("cancel")}</button>
              <button className="primary" onClick={() => runNow(asking)}>{t("opsRunNow")}</button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}

function RunResult({ name, run, onClose }: { name: string; run: RunNowRecord; onClose: () => void }) {
  const { t, lang } = useT();
  const skipped = run.selected - run.started;
  const [entries, setEntries] = useState<RunSubject[] | null>(null);
  const show = () => {
    if (run.run_id) priorityApi.runSubjects(run.run_id).then((list) => setEntries(list.filter((e) => e.outcome !== "acted")), () => setEntries([]));
  };
  return (
    <div className={`ops-result ${run.ran ? "ok" : "bad"}`} role="status" data-testid="run-result">
      <div>
        {run.ran ? t("prioRanNow", { name, selected: run.selected, acted: run.started, skipped }) : t("opsRunFailed", { name })}
        {!run.schedule.active && <> {t("opsStaysInactive")}</>}
        {run.ran && run.run_id && entries === null && skipped > 0 && (
          <> <button className="link small" onClick={show} data-testid="show-skipped">{t("prioShowSkipped")}</button></>
        )}
        {entries !== null && (
          entries.length === 0 ? <div className="muted small-text">{t("prioNoneSkipped")}</div> : (
            <ul className="prio-skipped" data-testid="skipped-list">
              {entries.map((e) => <li key={e.subject_id}><strong>{e.name}</strong> ({e.key}): {skipReason(e, lang)}</li>)}
            </ul>
          )
        )}
      </div>
      {run.error && <code className="ops-error-text">{run.error}</code>}
      <button className="ghost small" onClick={onClose} aria-label={t("close")}>×</button>
    </div>
  );
}

