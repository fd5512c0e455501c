// The approval list (D4): actions of workflows that need approval (tasks of type approval),
// each with what it would let out (the email, with a preview; the letter), approved or
// rejected one by one or in bulk. Members of the approval's role decide; admins all.
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api";
import { useT } from "../i18n";
import { useFlowTitles } from "../flowLabels";
import { navigate } from "../router";
import { when } from "../util";
import { dunningApi, type Approval, type ProposedAction } from "../dunning/api";

type Decision = "approve" | "reject";

export function ApprovalsPage() {
  const { t, lang } = useT();
  const flowName = useFlowTitles();
  const [items, setItems] = useState<Approval[] | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    setError("");
    try {
      const found = await dunningApi.approvals();
      setItems(found);
      setSelected((before) => new Set(found.map((a) => a.task.id).filter((id) => before.has(id))));
    } catch (e) {
      setItems((before) => before ?? []);
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }, []);
  useEffect(() => { void load(); }, [load]);

  async function decide(ids: string[], decision: Decision) {
    if (!ids.length) return;
    setBusy(true);
    setError("");
    try {
      const answer = await dunningApi.decide(ids, decision);
      setNotice(t(decision === "approve" ? "dunApproved" : "dunRejected", { n: answer.decided }));
      setSelected(new Set());
      await load();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    } finally {
      setBusy(false);
    }
  }

  const all = items ?? [];
  const allOn = all.length > 0 && all.every((a) => selected.has(a.task.id));
  const toggle = (id: string) =>
    setSelected((s) => { const next = new Set(s); if (next.has(id)) next.delete(id); else next.add(id); return next; });

  return (
    <div className="page work-page" data-testid="approvals-page">
      <div className="page-head">
        <h1>{t("navApprovals")}</h1>
        <div className="spacer" />
        <button onClick={() => void load()} data-testid="refresh">{t("wRefresh")}</button>
      </div>
      <p className="muted">{t("dunApprovalsIntro")} {t("dunWhoMay")}</p>
      {error && <div className="error-box" role="alert">{error}</div>}
      {notice && <div className="work-notice" role="status">{notice}<button className="ghost small" onClick={() => setNotice("")} aria-label={t("close")}>×</button></div>}
      <div className="work-bulk">
        <span className="muted">{t("wSelected", { n: selected.size })}</span>
        <button className="primary" disabled={!selected.size || busy} onClick={() => void decide([...selected], "approve")} data-testid="approve-selected">{t("dunApproveSelected", { n: selected.size })}</button>
        <button disabled={!selected.size || busy} onClick={() => void decide([...selected], "reject")} data-testid="reject-selected">{t("dunRejectSelected", { n: selected.size })}</button>
      </div>
      <table className="table" data-testid="approvals">
        <thead>
          <tr>
            <th><input type="checkbox" aria-label={t("wSelectAll")} checked={allOn} onChange={() => setSelected(allOn ? new Set() : new Set(all.map((a) => a.task.id)))} /></th>
            <th>{t("dunColDebtor")}</th>
            <th>{t("dunColWorkflow")}</th>
            <th>{t("dunColAction")}</th>
            <th>{t("dunColSince")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {items === null && <tr><td colSpan={6} className="muted">{t("loading")}</td></tr>}
          {items?.length === 0 && <tr><td colSpan={6} className="muted">{t("dunNone")}</td></tr>}
          {items?.map((a) => {
            const name = typeof a.task.subject.fields?.name === "string" ? (a.task.subject.fields.name as string) : "";
            const previewable = a.actions.filter((x) => (x.kind === "email" || x.kind === "letter") && x.body);
            return (
              <tr key={a.task.id} data-approval={a.task.id} data-subject={a.task.subject.key}>
                <td><input type="checkbox" aria-label={t("wSelectRow")} checked={selected.has(a.task.id)} onChange={() => toggle(a.task.id)} /></td>
                <td className="nowrap">
                  <a href={`/subjects/${a.task.subject.id}`} onClick={(e) => { e.preventDefault(); navigate(`/subjects/${a.task.subject.id}`); }}>{a.task.subject.key}</a>
                  {name && <div className="muted small-text">{name}</div>}
                </td>
                <td>{flowName(a.flow.key, a.flow.name)}<div className="muted small-text">{a.task.title}</div></td>
                <td data-testid="proposed">
                  {a.actions.length === 0 && <span className="muted">{t("dunNothingProposed")}</span>}
                  {a.actions.map((x, i) => <div key={i}>{actionText(x, t)}</div>)}
                  {previewable.length > 0 && (
                    <button className="small ghost" onClick={() => setOpen(open === a.task.id ? null : a.task.id)} data-testid="preview">
                      {open === a.task.id ? t("dunHidePreview") : t("dunPreview")}
                    </button>
                  )}
                  {open === a.task.id && previewable.map((x, i) => (
                    // The server rendered it with its sandboxed templates; shown sandboxed again.
                    <iframe key={i} className="approval-preview" sandbox="" srcDoc={x.body} title={x.subject ?? t("dunPreview")} style={{ width: "100%", minHeight: 160, border: "1px solid #ddd", background: "#fff" }} />
                  ))}
                </td>
                <td className="muted nowrap">{when(a.task.created_at, lang)}</td>
                <td>
                  <div className="row-actions">
                    <button className="primary small" disabled={busy} onClick={() => void decide([a.task.id], "approve")} data-testid="approve">{t("dunApprove")}</button>
                    <button className="small" disabled={busy} onClick={() => void decide([a.task.id], "reject")} data-testid="reject">{t("dunReject")}</button>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function actionText(action: ProposedAction, t: ReturnType<typeof useT>["t"]): string {
  const value = action.value === null || action.value === undefined ? "" : String(action.value);
  const subject = action.template && !action.body ? t("dunTemplate", { name: action.template }) : action.subject ?? "";
  switch (action.kind) {
    case "email":
      return t("dunEmailTo", { to: (action.to ?? []).join(", "), subject });
    case "letter":
      return t("dunLetter", { subject });
    case "set_field":
      return t("dunSetField", { field: action.field ?? "", value });
    case "increment":
      return t("dunIncrement", { field: action.field ?? "", value });
    case "status":
      return t("dunStatus", { value });
    default:
      return t("dunTask", { subject: action.subject ?? "" });
  }
}
