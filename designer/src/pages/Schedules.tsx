// Scheduled workflows (D1, administrators): rhythm, day, time, last and next run, run now, pause.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { useT } from "../i18n";
import { navigate } from "../router";
import type { RunNowResult, Schedule } from "../types";
import { useUser } from "../user";
import { when } from "../util";
import { dayText, rhythmText } from "../operations/schedule";

export function SchedulesPage() {
  const { t, lang } = useT();
  const user = useUser();
  const [schedules, setSchedules] = useState<Schedule[] | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [asking, setAsking] = useState<Schedule | null>(null);
  const [result, setResult] = useState<{ name: string; run: RunNowResult } | null>(null);

  const load = useCallback(() => {
    api.schedules().then(setSchedules, (e) => setError(e instanceof ApiError ? e.detail : String(e)));
  }, []);
  useEffect(load, [load]);

  function replace(updated: Schedule) {
    setSchedules((list) => list?.map((s) => (s.flow === updated.flow ? updated : s)) ?? null);
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
      const run = await api.runSchedule(s.flow);
      replace(run.schedule);
      setResult({ name: s.name, run });
    });
  const toggle = (s: Schedule) => act(s, async () => replace(await api.setScheduleActive(s.flow, !s.active)));

  if (user && user.access !== "admin") {
    return <div className="page ops-page" data-testid="schedules-page"><h1>{t("opsSchedulesTitle")}</h1><p className="muted">{t("opsAdminsOnly")}</p></div>;
  }
  return (
    <div className="page ops-page" data-testid="schedules-page">
      <div className="page-head"><h1>{t("opsSchedulesTitle")}</h1></div>
      <p className="muted ops-help">{t("opsSchedulesHelp")}</p>
      {error && <div className="error-box" role="alert">{error}</div>}
      {result && <RunResult name={result.name} run={result.run} onClose={() => setResult(null)} />}
      {schedules === null ? (
        <div className="muted">{t("loading")}</div>
      ) : schedules.length === 0 ? (
        <div className="card muted">{t("opsNoSchedules")}</div>
      ) : (
        <table className="table schedules-table">
          <thead>
            <tr>
              <th>{t("opsWorkflow")}</th><th>{t("opsInterval")}</th><th>{t("opsDay")}</th><th>{t("opsHour")}</th>
              <th>{t("opsLastRun")}</th><th>{t("opsNextRun")}</th><th>{t("status")}</th><th />
            </tr>
          </thead>
          <tbody>
            {schedules.map((s) => (
              <tr key={s.flow} data-schedule={s.flow} className={s.active ? "" : "ops-inactive"}>
                <td>
                  <a href={`/flows/${s.flow}`} onClick={(e) => { e.preventDefault(); navigate(`/flows/${encodeURIComponent(s.flow)}`); }} data-i18n-skip><strong>{s.name}</strong></a>
                  <div className="muted small-text"><code>{s.flow}</code> · {t("version")} {s.version}</div>
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
                  {s.last_run_at ? when(s.last_run_at, lang) : <span className="muted">{t("opsNever")}</span>}
                  {s.last_selected != null && (
                    <div className="muted small-text">{t("opsLastCounts", { selected: s.last_selected, started: s.last_started ?? 0 })}</div>
                  )}
                </td>
                <td>{s.active ? when(s.next_run_at, lang) : <span className="muted">—</span>}</td>
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
            <h2>{t("opsRunConfirmTitle", { name: asking.name })}</h2>
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

function RunResult({ name, run, onClose }: { name: string; run: RunNowResult; onClose: () => void }) {
  const { t } = useT();
  const skipped = run.selected - run.started;
  return (
    <div className={`ops-result ${run.ran ? "ok" : "bad"}`} role="status" data-testid="run-result">
      <div>
        {run.ran ? t("opsRanNow", { name, selected: run.selected, started: run.started, skipped }) : t("opsRunFailed", { name })}
        {!run.schedule.active && <> {t("opsStaysInactive")}</>}
      </div>
      {run.error && <code className="ops-error-text">{run.error}</code>}
      <button className="ghost small" onClick={onClose} aria-label={t("close")}>×</button>
    </div>
  );
}
