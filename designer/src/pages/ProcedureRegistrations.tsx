// Collection procedures (P5, administrators): the primaries in the order their rules are
// tried (dragged or moved with the arrows, as on the schedules page), the default last,
// the secondaries with their start and stop rules; how many debtors each runs for; register,
// edit, make default, remove (the server's refusal shown).
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError } from "../api";
import { loadSubjectType } from "../catalogue";
import { fieldsFrom, type RuleContext } from "../components/RuleBuilder";
import { useFlowTitles } from "../flowLabels";
import { useT } from "../i18n";
import { moved } from "../priority/api";
import { DefaultDialog, RegistrationDialog } from "../procedures/RegistrationDialog";
import { grouped, registrationsApi, type Candidate, type Registration } from "../procedures/registrations";
import { navigate } from "../router";
import { useUser } from "../user";
import "../priority/priority.css";
import "../procedures/registrations.css";

type Dialog =
  | { kind: "add"; candidates: Candidate[] }
  | { kind: "edit"; item: Registration }
  | { kind: "default"; item: Registration }
  | { kind: "remove"; item: Registration };

export function ProcedureRegistrationsPage() {
  const { t, lang } = useT();
  const user = useUser();
  const [list, setList] = useState<Registration[] | null>(null);
  const [debtor, setDebtor] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [dragged, setDragged] = useState<string | null>(null);

  const load = useCallback(() => {
    registrationsApi.list().then(setList, (e) => setError(e instanceof ApiError ? e.detail : String(e)));
  }, []);
  useEffect(load, [load]);
  useEffect(() => { void loadSubjectType("debtor").then(setDebtor); }, []);
  const ctx: RuleContext = useMemo(() => ({ subjectType: "debtor", fields: fieldsFrom(debtor, lang) }), [debtor, lang]);
  // Each procedure by its flow's name in the UI language (D6).
  const flowName = useFlowTitles();
  const named = useMemo(() => (list ?? []).map((r) => ({ ...r, name: flowName(r.flow_key, r.name) })), [list, flowName]);
  const groups = grouped(named);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError("");
    setNotice("");
    try {
      await action();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
      load();
    } finally {
      setBusy(false);
    }
  }

  // The shown order is the order rules are tried: saved at once, the server's answer shown.
  function reorder(from: number, to: number) {
    const next = moved(groups.ordered, from, to);
    if (busy || next === groups.ordered) return;
    const item = next[to]!;
    void run(async () => {
      setList(await registrationsApi.setOrder(next.map((r) => r.flow_key)));
      setNotice(t("prioMoved", { name: item.name, n: to + 1 }));
    });
  }

  function dropOn(target: string) {
    if (dragged === null) return;
    const from = groups.ordered.findIndex((r) => r.flow_key === dragged);
    const to = groups.ordered.findIndex((r) => r.flow_key === target);
    setDragged(null);
    if (from >= 0 && to >= 0) reorder(from, to);
  }

  const openAdd = () => void run(async () => setDialog({ kind: "add", candidates: (await registrationsApi.candidates()).map((c) => ({ ...c, name: flowName(c.flow_key, c.name) })) }));
  const remove = (item: Registration) =>
    void run(async () => {
      setDialog(null);
      await registrationsApi.remove(item.flow_key);
      setNotice(t("regRemoved", { name: item.name }));
      load();
    });

  const count = (n: number) => (n === 1 ? t("regOneDebtor") : t("regDebtorCount", { n }));
  const title = (r: Registration) => (
    <>
      <a href={`/flows/${r.flow_key}`} onClick={(e) => { e.preventDefault(); navigate(`/flows/${encodeURIComponent(r.flow_key)}`); }} data-i18n-skip><strong>{r.name}</strong></a>
      <div className="muted small-text"><code>{r.flow_key}</code>{r.version === null && <> · {t("regNotPublished")}</>}</div>
    </>
  );
  const ruleCell = (text: string | null) => (text ? <code className="reg-rule-text">{text}</code> : <span className="muted">—</span>);
  const actions = (r: Registration) => (
    <div className="row-actions">
      <button className="small" disabled={busy} onClick={() => setDialog({ kind: "edit", item: r })}>{t("regEdit")}</button>
      {r.kind === "primary" && !r.default && (
        <button className="small" disabled={busy} onClick={() => setDialog({ kind: "default", item: r })} data-testid="make-default">{t("regMakeDefault")}</button>
      )}
      <button className="small danger" disabled={busy} onClick={() => setDialog({ kind: "remove", item: r })} data-testid="remove">{t("regRemove")}</button>
    </div>
  );

  if (user && user.access !== "admin") {
    return <div className="page ops-page" data-testid="registrations-page"><h1>{t("regTitle")}</h1><p className="muted">{t("opsAdminsOnly")}</p></div>;
  }
  return (
    <div className="page ops-page" data-testid="registrations-page">
      <div className="page-head">
        <h1>{t("regTitle")}</h1>
        <button className="primary" disabled={busy || list === null} onClick={openAdd} data-testid="add-registration">{t("regAdd")}</button>
      </div>
      <p className="muted ops-help">{t("regHelp")}</p>
      {error && <div className="error-box" role="alert" data-testid="error">{error}</div>}
      <div role="status" aria-live="polite" className={notice ? "ops-result ok" : "sr-only"} data-testid="notice">{notice}</div>
      {list === null ? <div className="muted">{t("loading")}</div> : (
        <>
          <h2>{t("regPrimary")}</h2>
          <p className="muted small-text">{t("regPrimaryHelp")}</p>
          <table className="table reg-table" data-testid="primaries">
            <thead>
              <tr><th>{t("prioOrder")}</th><th>{t("regProcedure")}</th><th>{t("regRule")}</th><th>{t("regDebtors")}</th><th /></tr>
            </thead>
            <tbody>
              {groups.ordered.map((r, index) => (
                <tr
                  key={r.flow_key}
                  data-procedure={r.flow_key}
                  className={dragged === r.flow_key ? "prio-dragging" : ""}
                  draggable={!busy}
                  onDragStart={(e) => { setDragged(r.flow_key); e.dataTransfer.effectAllowed = "move"; e.dataTransfer.setData("text/plain", r.flow_key); }}
                  onDragOver={(e) => { if (dragged !== null) { e.preventDefault(); e.dataTransfer.dropEffect = "move"; } }}
                  onDrop={(e) => { e.preventDefault(); dropOn(r.flow_key); }}
                  onDragEnd={() => setDragged(null)}
                >
                  <td className="prio-cell">
                    <span className="prio-handle" title={t("prioDrag", { name: r.name })} aria-hidden="true">⠿</span>
                    <span className="prio-number" data-testid="priority">{index + 1}</span>
                    <button className="ghost small" disabled={busy || index === 0} onClick={() => reorder(index, index - 1)} aria-label={t("prioUp", { name: r.name })}>↑</button>
                    <button className="ghost small" disabled={busy || index === groups.ordered.length - 1} onClick={() => reorder(index, index + 1)} aria-label={t("prioDown", { name: r.name })}>↓</button>
                  </td>
                  <td>{title(r)}</td>
                  <td data-testid="rule">{ruleCell(r.rule_text)}</td>
                  <td data-testid="running">{count(r.running)}</td>
                  <td>{actions(r)}</td>
                </tr>
              ))}
              {groups.fallback ? (
                <tr data-procedure={groups.fallback.flow_key} data-default="true" className="reg-default">
                  <td><span className="badge ok" data-testid="default-badge">{t("regDefault")}</span></td>
                  <td>{title(groups.fallback)}</td>
                  <td className="muted">{t("regDefaultRule")}</td>
                  <td data-testid="running">{count(groups.fallback.running)}</td>
                  <td>{actions(groups.fallback)}</td>
                </tr>
              ) : (
                <tr><td colSpan={5} className="muted">{groups.ordered.length ? t("regNoDefault") : t("regNonePrimary")}</td></tr>
              )}
            </tbody>
          </table>

          <h2>{t("regSecondary")}</h2>
          <p className="muted small-text">{t("regSecondaryHelp")}</p>
          <table className="table reg-table" data-testid="secondaries">
            <thead>
              <tr><th>{t("regProcedure")}</th><th>{t("regStarts")}</th><th>{t("regStops")}</th><th>{t("regDebtors")}</th><th /></tr>
            </thead>
            <tbody>
              {groups.secondary.map((r) => (
                <tr key={r.flow_key} data-procedure={r.flow_key}>
                  <td>{title(r)}</td>
                  <td data-testid="rule">{ruleCell(r.rule_text)}</td>
                  <td data-testid="stop">{r.stop_text ? ruleCell(r.stop_text) : <span className="muted">{t("regNoStop")}</span>}</td>
                  <td data-testid="running">{count(r.running)}</td>
                  <td>{actions(r)}</td>
                </tr>
              ))}
              {groups.secondary.length === 0 && <tr><td colSpan={5} className="muted">{t("regNoneSecondary")}</td></tr>}
            </tbody>
          </table>
        </>
      )}
      {(dialog?.kind === "add" || dialog?.kind === "edit") && (
        <RegistrationDialog
          editing={dialog.kind === "edit" ? dialog.item : null}
          candidates={dialog.kind === "add" ? dialog.candidates : []}
          fallback={groups.fallback}
          ctx={ctx}
          onClose={() => setDialog(null)}
          onSaved={(saved) => { setDialog(null); setNotice(t("regSaved", { name: saved.name })); load(); }}
        />
      )}
      {dialog?.kind === "default" && (
        <DefaultDialog
          chosen={dialog.item}
          fallback={groups.fallback}
          ctx={ctx}
          onClose={() => setDialog(null)}
          onDone={(next) => { setDialog(null); setList(next); setNotice(t("regDefaultSet", { name: dialog.item.name })); }}
        />
      )}
      {dialog?.kind === "remove" && (
        <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) setDialog(null); }}>
          <div className="modal" role="dialog" aria-modal="true" data-testid="remove-dialog">
            <h2>{t("regRemoveTitle", { name: dialog.item.name })}</h2>
            <p>{t("regRemoveText")}</p>
            <div className="modal-actions">
              <button onClick={() => setDialog(null)}>{t("cancel")}</button>
              <button className="primary danger" onClick={() => remove(dialog.item)} data-testid="remove-confirm">{t("regRemove")}</button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
