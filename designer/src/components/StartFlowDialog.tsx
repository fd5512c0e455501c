// Start a published flow for chosen subjects (K6, K7): POST /flows/{key}/start-bulk,
// then what started and what was skipped, with the reason in the user's language.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../api";
import { docOf } from "../flow/document";
import { useT, type TextKey } from "../i18n";
import { navigate } from "../router";
import type { BulkReport } from "../subjects/model";

export interface Picked {
  id: string;
  key: string;
  type: string;
}

interface PublishedFlow {
  key: string;
  name: string;
  subjectType: string;
}

const PERIOD = /^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$/;
const TEST_MOST = 5;

/** The server's refusal reason (runtime/bulk.py) as a text key and its values; raw when unknown. */
export function reasonText(reason: string): { key: TextKey; vars: Record<string, string> } | null {
  let found: RegExpMatchArray | null;
  if (reason.startsWith("the flow already runs on it")) return { key: "sfReasonRunning", vars: {} };
  if ((found = reason.match(/^already started for (\S+)/))) return { key: "sfReasonPeriod", vars: { period: found[1]! } };
  if ((found = reason.match(/^a '([^']+)'; the flow runs on/))) return { key: "sfReasonType", vars: { type: found[1]! } };
  if (reason.startsWith("no such subject")) return { key: "sfReasonMissing", vars: {} };
  return null;
}

async function publishedFlows(): Promise<PublishedFlow[]> {
  const flows = (await api.flows()).filter((f) => f.latest_version);
  return Promise.all(
    flows.map(async (f) => {
      const doc = docOf(await api.version(f.key, f.latest_version!));
      return { key: f.key, name: doc.name || f.name, subjectType: doc.subject_type };
    }),
  );
}

export function StartFlowDialog(props: {
  subjects: Picked[];
  typeLabel: (type: string) => string;
  onClose: () => void;
  onStarted?: (report: BulkReport) => void;
}) {
  const { t } = useT();
  // As opened: the page may clear its selection once the flow started.
  const [subjects] = useState(props.subjects);
  const [flows, setFlows] = useState<PublishedFlow[] | null>(null);
  const [flow, setFlow] = useState("");
  const [period, setPeriod] = useState("");
  const [test, setTest] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [report, setReport] = useState<BulkReport | null>(null);
  const types = useMemo(() => [...new Set(subjects.map((s) => s.type))], [subjects]);

  useEffect(() => {
    publishedFlows().then(
      (all) => {
        const fitting = all.filter((f) => types.includes(f.subjectType)).sort((a, b) => a.name.localeCompare(b.name));
        setFlows(fitting);
        if (fitting.length) setFlow(fitting[0]!.key);
      },
      (e) => setError(e instanceof ApiError ? e.detail : String(e)),
    );
  }, [types]);

  const chosen = flows?.find((f) => f.key === flow);
  const periodBad = period.trim() !== "" && !PERIOD.test(period.trim());
  const testBad = test && subjects.length > TEST_MOST;

  async function start(e: React.FormEvent) {
    e.preventDefault();
    if (!chosen || periodBad || testBad) return;
    setBusy(true);
    setError("");
    try {
      const body = { subject_ids: subjects.map((s) => s.id), ...(period.trim() ? { period: period.trim() } : {}), ...(test ? { test } : {}) };
      const done = await api.startBulk(chosen.key, body);
      setReport(done);
      props.onStarted?.(done);
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : String(err));
    } finally {
      setBusy(false);
    }
  }

  const keyOf = (id: string) => subjects.find((s) => s.id === id)?.key ?? id;
  return (
    <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) props.onClose(); }}>
      {report ? (
        <div className="modal start-flow" data-testid="start-flow-result" role="dialog">
          <h2>{t("sfResult", { flow: chosen?.name ?? report.flow, version: report.version })}</h2>
          <h3>{t("sfStartedN", { n: report.started.length })}</h3>
          <ul className="start-list" data-testid="started">
            {report.started.map((s) => (
              <li key={s.instance_id}>
                <a href={`/subjects/${s.subject_id}`} onClick={(e) => { e.preventDefault(); navigate(`/subjects/${s.subject_id}`); }}>{s.key}</a>
              </li>
            ))}
          </ul>
          {report.refused.length > 0 && (
            <>
              <h3>{t("sfSkippedN", { n: report.refused.length })}</h3>
              <ul className="start-list" data-testid="skipped">
                {report.refused.map((r) => {
                  const said = reasonText(r.reason);
                  return (
                    <li key={r.subject_id} title={r.reason}>
                      <strong>{r.key || keyOf(r.subject_id)}</strong>: {said ? t(said.key, said.vars) : r.reason}
                    </li>
                  );
                })}
              </ul>
            </>
          )}
          <div className="modal-actions">
            <button onClick={() => navigate(`/running/${encodeURIComponent(report.flow)}`)}>{t("subjOpenRunning")}</button>
            <button className="primary" autoFocus onClick={props.onClose}>{t("sfDone")}</button>
          </div>
        </div>
      ) : (
        <form className="modal start-flow" onSubmit={start} data-testid="start-flow-dialog">
          <h2>{t("sfTitle", { n: subjects.length })}</h2>
          {flows === null && !error && <div className="muted">{t("loading")}</div>}
          {flows !== null && flows.length === 0 && (
            <div className="muted">{t("sfNoFlows", { type: types.map(props.typeLabel).join(", ") })}</div>
          )}
          {flows !== null && flows.length > 0 && (
            <>
              <label>{t("sfFlow")}
                <select name="flow" value={flow} onChange={(e) => setFlow(e.target.value)} autoFocus>
                  {flows.map((f) => <option key={f.key} value={f.key}>{f.name} ({props.typeLabel(f.subjectType)})</option>)}
                </select>
              </label>
              {chosen && types.length > 1 && <div className="hint small-text">{t("sfMixed", { type: props.typeLabel(chosen.subjectType) })}</div>}
              <label>{t("sfPeriod")}
                <input name="period" value={period} placeholder="2026-11" aria-invalid={periodBad} onChange={(e) => setPeriod(e.target.value)} />
                <span className={periodBad ? "error small-text" : "muted small-text"}>{periodBad ? t("sfPeriodBad") : t("sfPeriodHelp")}</span>
              </label>
              <label className="checkbox-line">
                <input type="checkbox" name="test" checked={test} onChange={(e) => setTest(e.target.checked)} /> {t("sfTest")}
              </label>
            </>
          )}
          {error && <div className="error" role="alert">{error}</div>}
          <div className="modal-actions">
            <button type="button" onClick={props.onClose}>{t("cancel")}</button>
            <button type="submit" className="primary" disabled={!chosen || busy || periodBad || testBad}>{busy ? t("sfStarting") : t("sfStart")}</button>
          </div>
        </form>
      )}
    </div>
  );
}
