// The worksheet (P4): actions that collection procedures propose, done one by one or in bulk,
// postponed to a day, or skipped with a reason; done ones can be undone where their effect
// allows it. Filters by role, user and action type. The server performs each action once.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { useFlowTitles } from "../flowLabels";
import { useT, type TextKey } from "../i18n";
import { navigate } from "../router";
import { when } from "../util";
import { ACTIONS, proceduresApi, type ActionKind, type SheetFilter, type SheetItem, type SheetResult, type SheetState } from "../procedures/api";

const STATES: SheetState[] = ["proposed", "postponed", "done"];
const STATE_TEXT: Record<SheetState, TextKey> = { proposed: "prcStateProposed", postponed: "prcStatePostponed", done: "prcStateDone" };
export const ACTION_TEXT: Record<ActionKind, TextKey> = {
  email: "prcActionEmail",
  letter: "prcActionLetter",
  call: "prcActionCall",
  handover: "prcActionHandover",
  status: "prcActionStatus",
};

function tomorrow(): string {
  const day = new Date(Date.now() + 86_400_000);
  return day.toISOString().slice(0, 10);
}

export function WorksheetPage() {
  const { t, lang } = useT();
  const flowName = useFlowTitles();
  const [filter, setFilter] = useState<SheetFilter>({ state: "proposed", role: "", user: "", action: "" });
  const [items, setItems] = useState<SheetItem[] | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [roles, setRoles] = useState<string[]>([]);
  const [users, setUsers] = useState<string[]>([]);
  const [dialog, setDialog] = useState<"postpone" | "skip" | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.rolesWithMembers().then((found) => setRoles(found.map((r) => r.name)), () => setRoles([]));
    api.userEmails().then((found) => setUsers(found.map((u) => u.email)), () => setUsers([]));
  }, []);

  const load = useCallback(async () => {
    setError("");
    try {
      const found = await proceduresApi.worksheet(filter);
      setItems(found);
      setSelected((before) => new Set(found.map((i) => i.task_id).filter((id) => before.has(id))));
    } catch (e) {
      setItems((before) => before ?? []);
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }, [filter]);
  useEffect(() => { void load(); }, [load]);

  async function run(work: () => Promise<SheetResult[]>) {
    setBusy(true);
    setError("");
    try {
      const results = await work();
      const count = (outcome: SheetResult["outcome"]) => results.filter((r) => r.outcome === outcome).length;
      const parts: string[] = [];
      if (count("performed")) parts.push(t("prcPerformed", { n: count("performed") }));
      if (count("skipped")) parts.push(t("prcSkipped", { n: count("skipped") }));
      if (count("postponed")) parts.push(t("prcPostponed", { n: count("postponed") }));
      if (count("already_done")) parts.push(t("prcAlreadyDone", { n: count("already_done") }));
      const refused = results.filter((r) => r.outcome === "refused");
      if (refused.length) setError(refused.map((r) => r.detail).join(" "));
      setNotice(parts.join(" "));
      setSelected(new Set());
      setDialog(null);
      await load();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    } finally {
      setBusy(false);
    }
  }

  async function undo(item: SheetItem) {
    setBusy(true);
    setError("");
    try {
      await proceduresApi.undo(item.task_id);
      setNotice(t("prcUndone", { title: item.title }));
      await load();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    } finally {
      setBusy(false);
    }
  }

  const all = items ?? [];
  const open = filter.state !== "done";
  const allOn = all.length > 0 && all.every((i) => selected.has(i.task_id));
  const toggle = (id: string) =>
    setSelected((s) => { const next = new Set(s); if (next.has(id)) next.delete(id); else next.add(id); return next; });
  const chosen = [...selected];

  return (
    <div className="page work-page" data-testid="worksheet-page">
      <div className="page-head">
        <h1>{t("navWorksheet")}</h1>
        <div className="spacer" />
        <button onClick={() => void load()} data-testid="refresh">{t("wRefresh")}</button>
      </div>
      <p className="muted">{t("prcIntro")}</p>
      <div className="tabs" role="tablist">
        {STATES.map((state) => (
          <button key={state} role="tab" aria-selected={filter.state === state} className={filter.state === state ? "on" : ""} data-testid={`state-${state}`} onClick={() => setFilter({ ...filter, state })}>
            {t(STATE_TEXT[state])}
          </button>
        ))}
      </div>
      <div className="work-filters" data-testid="worksheet-filters">
        <label>{t("prcFilterRole")}
          <select value={filter.role} onChange={(e) => setFilter({ ...filter, role: e.target.value })} data-testid="filter-role">
            <option value="">{t("prcAll")}</option>
            {roles.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label>{t("prcFilterUser")}
          <select value={filter.user} onChange={(e) => setFilter({ ...filter, user: e.target.value })} data-testid="filter-user">
            <option value="">{t("prcAll")}</option>
            {users.map((u) => <option key={u} value={u}>{u}</option>)}
          </select>
        </label>
        <label>{t("prcFilterAction")}
          <select value={filter.action} onChange={(e) => setFilter({ ...filter, action: e.target.value as ActionKind | "" })} data-testid="filter-action">
            <option value="">{t("prcAll")}</option>
            {ACTIONS.map((a) => <option key={a} value={a}>{t(ACTION_TEXT[a])}</option>)}
          </select>
        </label>
      </div>
      {error && <div className="error-box" role="alert">{error}</div>}
      {notice && <div className="work-notice" role="status" data-testid="notice">{notice}<button className="ghost small" onClick={() => setNotice("")} aria-label={t("close")}>×</button></div>}
      {open && (
        <div className="work-bulk">
          <span className="muted">{t("wSelected", { n: selected.size })}</span>
          <button className="primary" disabled={!selected.size || busy} onClick={() => void run(() => proceduresApi.process(chosen))} data-testid="process-selected">{t("prcProcessSelected", { n: selected.size })}</button>
          <button disabled={!selected.size || busy} onClick={() => setDialog("postpone")} data-testid="postpone-selected">{t("prcPostponeSelected", { n: selected.size })}</button>
          <button disabled={!selected.size || busy} onClick={() => setDialog("skip")} data-testid="skip-selected">{t("prcSkipSelected", { n: selected.size })}</button>
        </div>
      )}
      <table className="table" data-testid="worksheet">
        <thead>
          <tr>
            {open && <th><input type="checkbox" aria-label={t("wSelectAll")} checked={allOn} onChange={() => setSelected(allOn ? new Set() : new Set(all.map((i) => i.task_id)))} /></th>}
            <th>{t("prcColDebtor")}</th>
            <th>{t("prcColAction")}</th>
            <th>{t("prcColProcedure")}</th>
            <th>{t("prcColFor")}</th>
            <th>{open ? t("prcColSince") : t("prcColDone")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {items === null && <tr><td colSpan={7} className="muted">{t("loading")}</td></tr>}
          {items?.length === 0 && <tr><td colSpan={7} className="muted">{t("prcNone")}</td></tr>}
          {all.map((item) => (
            <tr key={item.task_id} data-task={item.task_id} data-subject={item.subject_key} data-action={item.action}>
              {open && <td><input type="checkbox" aria-label={t("wSelectRow")} checked={selected.has(item.task_id)} onChange={() => toggle(item.task_id)} /></td>}
              <td className="nowrap">
                <a href={`/subjects/${item.subject_id}`} onClick={(e) => { e.preventDefault(); navigate(`/subjects/${item.subject_id}`); }}>{item.subject_key}</a>
                {item.subject_name && <div className="muted small-text">{item.subject_name}</div>}
              </td>
              <td><span className="badge">{t(ACTION_TEXT[item.action])}</span> {item.title}</td>
              <td>{flowName(item.flow_key, item.flow_name)}</td>
              <td className="muted">{item.role ?? item.assignee}</td>
              <td className="muted nowrap">
                {open ? when(item.created_at, lang) : when(item.completed_at, lang)}
                {item.postponed_until && <div className="small-text">{t("prcUntil", { date: item.postponed_until })}</div>}
                {!open && <div className="small-text">{item.outcome === "skip" ? t("prcWasSkipped") : t("prcWasPerformed")} {item.completed_by}</div>}
                {item.undone_at && <div className="small-text">{t("prcWasUndone")}</div>}
              </td>
              <td>
                <div className="row-actions">
                  {open && <button className="primary small" disabled={busy} onClick={() => void run(() => proceduresApi.process([item.task_id]))} data-testid="process">{t("prcProcess")}</button>}
                  {!open && item.can_undo && <button className="small" disabled={busy} onClick={() => void undo(item)} data-testid="undo">{t("prcUndo")}</button>}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {dialog === "postpone" && <PostponeDialog count={selected.size} onCancel={() => setDialog(null)} onDone={(until) => run(() => proceduresApi.postpone(chosen, until))} />}
      {dialog === "skip" && <SkipDialog count={selected.size} onCancel={() => setDialog(null)} onDone={(reason) => run(() => proceduresApi.skip(chosen, reason))} />}
    </div>
  );
}

function PostponeDialog({ count, onCancel, onDone }: { count: number; onCancel: () => void; onDone: (until: string) => Promise<void> }) {
  const { t } = useT();
  const [until, setUntil] = useState(tomorrow());
  return (
    <div className="modal-backdrop">
      <form className="modal" data-testid="postpone-dialog" onSubmit={(e) => { e.preventDefault(); void onDone(until); }}>
        <h2>{t("prcPostponeTitle", { n: count })}</h2>
        <label>{t("prcPostponeUntil")}<input type="date" name="until" required min={tomorrow()} value={until} onChange={(e) => setUntil(e.target.value)} /></label>
        <div className="modal-actions">
          <button type="button" onClick={onCancel}>{t("wKeep")}</button>
          <button type="submit" className="primary" disabled={!until}>{t("prcPostpone")}</button>
        </div>
      </form>
    </div>
  );
}

function SkipDialog({ count, onCancel, onDone }: { count: number; onCancel: () => void; onDone: (reason: string) => Promise<void> }) {
  const { t } = useT();
  const [reason, setReason] = useState("");
  return (
    <div className="modal-backdrop">
      <form className="modal" data-testid="skip-dialog" onSubmit={(e) => { e.preventDefault(); if (reason.trim()) void onDone(reason.trim()); }}>
        <h2>{t("prcSkipTitle", { n: count })}</h2>
        <p className="muted">{t("prcSkipHelp")}</p>
        <label>{t("wReasonRequired")}<input name="reason" autoFocus required maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} /></label>
        <div className="modal-actions">
          <button type="button" onClick={onCancel}>{t("wKeep")}</button>
          <button type="submit" className="primary" disabled={!reason.trim()}>{t("prcSkip")}</button>
        </div>
      </form>
    </div>
  );
}
