// Import a file from the subjects list: debtors or open items (CSV) or a bank statement
// (CAMT.053), skip bad rows or not, then the report in words: what was stored, and each bad
// row's line, column and what to do about it. The server runs what `procedo import` runs.
import { useState } from "react";
import { ApiError } from "../api";
import { useT } from "../i18n";
import { importFile, problemText, type ImportKind, type ImportReport } from "./importApi";

export function ImportDialog(props: { onClose: () => void; onImported: () => void }) {
  const { t } = useT();
  const [kind, setKind] = useState<ImportKind>("debtors");
  const [file, setFile] = useState<File | null>(null);
  const [skipBad, setSkipBad] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [report, setReport] = useState<ImportReport | null>(null);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!file) {
      setError(t("impNoFile"));
      return;
    }
    setBusy(true);
    setError("");
    setReport(null);
    try {
      const done = await importFile(kind, file, skipBad);
      setReport(done);
      if (!done.refused) props.onImported();
    } catch (err) {
      if (err instanceof ApiError && err.status === 413) setError(t("impTooLarge", { detail: err.detail }));
      else setError(err instanceof ApiError ? err.detail : String(err));
    } finally {
      setBusy(false);
    }
  }

  const stored = report && !report.refused;
  return (
    <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) props.onClose(); }}>
      <form className="modal import-dialog" role="dialog" aria-label={t("impTitle")} data-testid="import-dialog" onSubmit={submit}>
        <h2>{t("impTitle")}</h2>
        {!stored && (
          <>
            <label>{t("impWhat")}
              <select name="kind" value={kind} autoFocus onChange={(e) => { setKind(e.target.value as ImportKind); setReport(null); }}>
                <option value="debtors">{t("impDebtors")}</option>
                <option value="open-items">{t("impOpenItems")}</option>
                <option value="bank">{t("impBank")}</option>
              </select>
            </label>
            <div className="muted small-text">{kind === "bank" ? t("impHelpBank") : t("impHelpCsv")}</div>
            <label>{t("impFile")}
              <input
                type="file"
                name="file"
                accept={kind === "bank" ? ".xml,application/xml,text/xml" : ".csv,text/csv,text/plain"}
                onChange={(e) => { setFile(e.target.files?.[0] ?? null); setReport(null); setError(""); }}
              />
            </label>
            {kind !== "bank" && (
              <label className="checkbox-line" title={t("impSkipHelp")}>
                <input type="checkbox" name="skip_bad" checked={skipBad} onChange={(e) => setSkipBad(e.target.checked)} /> {t("impSkipBad")}
              </label>
            )}
          </>
        )}
        {error && <div className="error-box" role="alert">{error}</div>}
        {report && (
          <div className="import-report" data-testid="import-report" role="status">
            {report.refused ? (
              <p className="error" data-testid="import-refused">
                {report.kind === "bank" ? t("impRefusedBank") : t("impRefused", { n: report.problem_count })}
              </p>
            ) : report.kind === "bank" ? (
              <p data-testid="import-stored">
                {t("impPayments", { stored: report.stored, matched: report.matched ?? 0, unmatched: report.unmatched ?? 0, already: report.already_stored ?? 0 })}
              </p>
            ) : (
              <>
                <p data-testid="import-stored">{t("impStored", { stored: report.stored, created: report.created, updated: report.updated })}</p>
                {report.skipped > 0 && <p>{t("impSkipped", { n: report.skipped })}</p>}
              </>
            )}
            {report.problems.length > 0 && (
              <ul className="import-problems" data-testid="import-problems">
                {report.problems.map((p, i) => <li key={i} title={p.message}>{problemText(p, t)}</li>)}
                {report.problem_count > report.problems.length && <li>{t("impMore", { n: report.problem_count - report.problems.length })}</li>}
              </ul>
            )}
          </div>
        )}
        <div className="modal-actions">
          {stored ? (
            <>
              <button type="button" onClick={() => { setReport(null); setFile(null); }}>{t("impAnother")}</button>
              <button type="button" className="primary" autoFocus onClick={props.onClose}>{t("impClose")}</button>
            </>
          ) : (
            <>
              <button type="button" onClick={props.onClose}>{t("impCancel")}</button>
              <button type="submit" className="primary" disabled={busy}>{busy ? t("impBusy") : t("impStart")}</button>
            </>
          )}
        </div>
      </form>
    </div>
  );
}
