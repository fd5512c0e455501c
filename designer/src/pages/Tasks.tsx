// All tasks (administrators): every open task of the tenant, filtered by flow, role,
// person and overdue; one or several reassigned to a person or a role (E8).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { useT } from "../i18n";
import { navigate } from "../router";
import { useUser } from "../user";
import type { FlowSummary, PersonChoice, RoleChoice, WorkTask } from "../types";
import { when } from "../util";
import { bulkSummary, eachOf, taskQuery, waitsFor, type TaskFilters } from "../work/logic";
import { TaskTypeFilter, TaskTypeTag } from "../dunning/TaskType";

const PAGE = 100;
const NO_FILTERS: TaskFilters = { flow: "", role: "", user: "", overdue: false };

export function AllTasksPage() {
  const { t } = useT();
  const user = useUser();
  if (user?.access !== "admin") {
    return (
      <div className="page work-page" data-testid="tasks-page">
        <div className="page-head"><h1>{t("wTasksTitle")}</h1></div>
        <p className="muted">{t("wAdminsOnly")}</p>
        <button onClick={() => navigate("/inbox")}>{t("wToInbox")}</button>
      </div>
    );
  }
  return <AllTasks />;
}

function AllTasks() {
  const { t, lang } = useT();
  const [filters, setFilters] = useState<TaskFilters>(NO_FILTERS);
  const [tasks, setTasks] = useState<WorkTask[] | null>(null);
  const [more, setMore] = useState(false);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [flows, setFlows] = useState<FlowSummary[]>([]);
  const [roles, setRoles] = useState<RoleChoice[]>([]);
  const [people, setPeople] = useState<PersonChoice[]>([]);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [reassigning, setReassigning] = useState(false);

  useEffect(() => {
    api.flows().then(setFlows, () => setFlows([]));
    api.roleChoices().then(setRoles, () => setRoles([]));
    api.personChoices().then(setPeople, () => setPeople([]));
  }, []);

  const latest = useRef(0);
  const load = useCallback(
    async (offset = 0) => {
      setError("");
      const asked = ++latest.current;
      try {
        const page = await api.allTasks(taskQuery(filters, PAGE, offset));
        if (asked !== latest.current) return; // the filters changed meanwhile
        setTasks((before) => (offset === 0 ? page : [...(before ?? []), ...page]));
        setMore(page.length === PAGE);
        if (offset === 0) setSelected(new Set());
      } catch (e) {
        setTasks((before) => before ?? []);
        setError(e instanceof ApiError ? e.detail : String(e));
      }
    },
    [filters],
  );
  useEffect(() => { void load(); }, [load]);

  const names = useMemo(() => Object.fromEntries(people.map((p) => [p.email, p.name || p.email])), [people]);
  const roleLabel = useCallback(
    (name: string | null) => {
      if (!name) return "";
      const role = roles.find((r) => r.name === name);
      return role?.labels?.[lang] || role?.label || name;
    },
    [roles, lang],
  );
  const set = (change: Partial<TaskFilters>) => setFilters((f) => ({ ...f, ...change }));
  const allOn = !!tasks?.length && tasks.every((x) => selected.has(x.id));
  const toggle = (id: string) => setSelected((s) => { const next = new Set(s); if (next.has(id)) next.delete(id); else next.add(id); return next; });

  async function reassign(to: { user: string } | { role: string }, reason: string) {
    const chosen = (tasks ?? []).filter((x) => selected.has(x.id));
    const results = await eachOf(chosen, (x) => `${x.subject.key} · ${x.title}`, (x) => api.reassignTask(x.id, to, reason));
    setReassigning(false);
    setNotice(bulkSummary(results, lang, "wBulkReassigned"));
    await load();
  }

  return (
    <div className="page work-page" data-testid="tasks-page">
      <div className="page-head">
        <h1>{t("wTasksTitle")}</h1>
        <div className="spacer" />
        <button onClick={() => void load()} data-testid="refresh">{t("wRefresh")}</button>
      </div>
      <p className="muted">{t("wTasksIntro")}</p>
      <div className="work-filters" role="search">
        <label>{t("wFlowFilter")}
          <select name="flow" value={filters.flow} onChange={(e) => set({ flow: e.target.value })}>
            <option value="">{t("wAnyFlow")}</option>
            {flows.filter((f) => f.latest_version).map((f) => <option key={f.key} value={f.key}>{f.name}</option>)}
          </select>
        </label>
        <label>{t("wRoleFilter")}
          <select name="role" value={filters.role} onChange={(e) => set({ role: e.target.value })}>
            <option value="">{t("wAnyRole")}</option>
            {roles.map((r) => <option key={r.name} value={r.name}>{roleLabel(r.name)}</option>)}
          </select>
        </label>
        <label>{t("wPersonFilter")}
          <select name="user" value={filters.user} onChange={(e) => set({ user: e.target.value })}>
            <option value="">{t("wAnyone")}</option>
            {people.map((p) => <option key={p.email} value={p.email}>{p.name || p.email}</option>)}
          </select>
        </label>
        <TaskTypeFilter value={filters.type ?? ""} onChange={(type) => set({ type })} />
        <label className="inline-check">
          <input type="checkbox" name="overdue" checked={filters.overdue} onChange={(e) => set({ overdue: e.target.checked })} />
          {t("wOverdueOnly")}
        </label>
      </div>
      {error && <div className="error-box" role="alert">{error}</div>}
      {notice && <div className="work-notice" role="status">{notice}<button className="ghost small" onClick={() => setNotice("")} aria-label={t("close")}>×</button></div>}
      <div className="work-bulk">
        <span className="muted">{t("wSelected", { n: selected.size })}</span>
        <button className="primary" disabled={!selected.size} onClick={() => setReassigning(true)} data-testid="reassign">{t("wReassign")}</button>
      </div>
      <table className="table" data-testid="all-tasks">
        <thead>
          <tr>
            <th><input type="checkbox" aria-label={t("wSelectAll")} checked={allOn} onChange={() => setSelected(allOn ? new Set() : new Set((tasks ?? []).map((x) => x.id)))} /></th>
            <th>{t("wColSubject")}</th>
            <th>{t("wColTask")}</th>
            <th>{t("wColWaitsFor")}</th>
            <th>{t("wColDue")}</th>
            <th>{t("wColSince")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tasks === null && <tr><td colSpan={7} className="muted">{t("loading")}</td></tr>}
          {tasks?.length === 0 && <tr><td colSpan={7} className="muted">{t("wNoOpenTasks")}</td></tr>}
          {tasks?.map((x) => (
            <tr key={x.id} data-task={x.id} className={x.overdue ? "overdue" : ""}>
              <td><input type="checkbox" aria-label={t("wSelectRow")} checked={selected.has(x.id)} onChange={() => toggle(x.id)} /></td>
              <td className="nowrap"><a href={`/subjects/${x.subject.id}`} onClick={(e) => { e.preventDefault(); navigate(`/subjects/${x.subject.id}`); }} title={t("wOpenSubject")}>{x.subject.key}</a></td>
              <td>{x.title} <TaskTypeTag kind={x.kind} /></td>
              <td data-testid="waits-for">
                {x.assignee ? waitsFor(x, names) : roleLabel(x.role)}
                {x.assignee && x.role ? <div className="muted small-text">{roleLabel(x.role)}</div> : null}
              </td>
              <td>{x.due ? when(x.due, lang) : <span className="muted">{t("wNoDue")}</span>} {x.overdue && <span className="overdue-tag">{t("overdue")}</span>}</td>
              <td className="muted nowrap">{when(x.created_at, lang)}</td>
              <td><div className="row-actions"><InstanceLink instanceId={x.instance_id} /></div></td>
            </tr>
          ))}
        </tbody>
      </table>
      {more && <div className="work-more"><button onClick={() => void load(tasks?.length ?? 0)}>{t("wLoadMore")}</button></div>}
      {reassigning && (
        <ReassignDialog count={selected.size} roles={roles} people={people} roleLabel={roleLabel} onCancel={() => setReassigning(false)} onDone={reassign} />
      )}
    </div>
  );
}

/** The running view of a task's instance (its flow is read when asked, not per row). */
function InstanceLink({ instanceId }: { instanceId: string }) {
  const { t } = useT();
  async function open() {
    const detail = await api.instance(instanceId).catch(() => null);
    if (detail && typeof detail.flow === "string") navigate(`/running/${encodeURIComponent(detail.flow)}?instance=${instanceId}`);
  }
  return <button className="small" onClick={() => void open()} title={t("wOpenInstance")} aria-label={t("wOpenInstance")}>↗</button>;
}

function ReassignDialog(props: {
  count: number;
  roles: RoleChoice[];
  people: PersonChoice[];
  roleLabel: (name: string) => string;
  onCancel: () => void;
  onDone: (to: { user: string } | { role: string }, reason: string) => Promise<void>;
}) {
  const { t } = useT();
  const [kind, setKind] = useState<"user" | "role">("user");
  const [target, setTarget] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!target) return;
    setBusy(true);
    await props.onDone(kind === "user" ? { user: target } : { role: target }, reason.trim());
    setBusy(false);
  }
  return (
    <div className="modal-backdrop">
      <form className="modal" onSubmit={(e) => void submit(e)} data-testid="reassign-dialog">
        <h2>{t("wReassignTitle", { n: props.count })}</h2>
        <div className="tabs">
          <button type="button" className={kind === "user" ? "on" : ""} onClick={() => { setKind("user"); setTarget(""); }} data-kind="user">{t("wToPerson")}</button>
          <button type="button" className={kind === "role" ? "on" : ""} onClick={() => { setKind("role"); setTarget(""); }} data-kind="role">{t("wToRole")}</button>
        </div>
        <label>{kind === "user" ? t("wToPerson") : t("wToRole")}
          <select name="target" required value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">{t("wChoose")}</option>
            {kind === "user"
              ? props.people.filter((p) => p.access !== "partner").map((p) => <option key={p.email} value={p.email}>{p.name ? `${p.name} (${p.email})` : p.email}</option>)
              : props.roles.map((r) => <option key={r.name} value={r.name}>{props.roleLabel(r.name)}</option>)}
          </select>
        </label>
        <label>{t("wReasonOptional")}<input name="reason" value={reason} maxLength={2000} onChange={(e) => setReason(e.target.value)} /></label>
        <div className="modal-actions">
          <button type="button" onClick={props.onCancel}>{t("cancel")}</button>
          <button type="submit" className="primary" disabled={!target || busy}>{t("wReassignDo")}</button>
        </div>
      </form>
    </div>
  );
}
