// The inbox: my tasks and my roles' tasks, with the subject, instructions,
// checkpoints (mandatory marked) and one button per outcome; overdue stands out.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError, asList } from "../api";
import { pick, useT } from "../i18n";
import { loadSubjectType } from "../catalogue";
import type { Labels } from "../types";
import { when } from "../util";
import { dunningApi, type TaskType } from "../dunning/api";
import { TaskTypeFilter, TaskTypeTag } from "../dunning/TaskType";
import { tickCheckpoint } from "../phases/api";
import { openMandatory, progress, tickOf, type Tick } from "../phases/logic";
import { isReviewTask, ReviewTask } from "../portalflows/ReviewTask";

interface Checkpoint {
  id: string;
  label: string;
  mandatory?: boolean;
}

interface Task {
  id: string;
  instance_id: string;
  node: string;
  title: string;
  instructions: string;
  role: string | null;
  assignee: string | null;
  candidates?: string[];
  status: string;
  outcomes: (string | { port: string; label?: string })[];
  checkpoints: Checkpoint[];
  ticked?: string[];
  ticks?: Record<string, Tick>;
  due: string | null;
  overdue: boolean;
  created_at: string;
  subject: { id: string; type: string; key: string; status: string; fields: Record<string, unknown> };
  kind?: string;
}

function flatten(value: unknown, prefix = "", out: [string, string][] = []): [string, string][] {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push([prefix, Array.isArray(value) ? value.join(", ") : value === null || value === undefined ? "—" : String(value)]);
  }
  return out;
}

function humanize(port: string): string {
  const s = port.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// Outcome labels live in the flow (the task lists its outcome ports): read them once per version.
const labelCache = new Map<string, Promise<Record<string, string>>>();
function outcomeLabels(task: Task): Promise<Record<string, string>> {
  const key = `${task.instance_id}:${task.node}`;
  if (!labelCache.has(key)) {
    labelCache.set(
      key,
      (async () => {
        const instance = (await api.instance(task.instance_id)) as { flow?: string; version?: number };
        if (!instance.flow || !instance.version) return {};
        const doc = (await api.version(instance.flow, instance.version)) as { nodes?: { id: string; params?: { outcomes?: { port: string; label?: string }[] } }[] };
        const node = doc.nodes?.find((n) => n.id === task.node);
        return Object.fromEntries((node?.params?.outcomes ?? []).map((o) => [o.port, o.label ?? o.port]));
      })().catch(() => ({})),
    );
  }
  return labelCache.get(key)!;
}

export function InboxPage() {
  const { t, lang } = useT();
  const [scope, setScope] = useState<"mine" | "roles">("mine");
  const [taskType, setTaskType] = useState<TaskType | "">("");
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");

  const load = useCallback(async () => {
    setError("");
    try {
      const list = asList<Task>(await dunningApi.inbox(scope, taskType), "tasks");
      list.sort((a, b) => Number(b.overdue) - Number(a.overdue) || (a.due ?? "9").localeCompare(b.due ?? "9"));
      setTasks(list);
    } catch (e) {
      setTasks([]);
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }, [scope, taskType]);
  useEffect(() => {
    void load();
    // New tasks arrive while the inbox is open.
    const timer = setInterval(() => void load(), 15_000);
    return () => clearInterval(timer);
  }, [load]);

  const task = tasks?.find((x) => x.id === selectedId) ?? null;
  // A payment arrangement's review is decided with its form, which completes the task (M5).
  const [inReview, setInReview] = useState(false);
  useEffect(() => setInReview(false), [task?.id]);
  const reviewing = task !== null && isReviewTask(task);
  // Checkpoints are ticked one by one on the server (who and when kept, K2).
  const ticked = new Set(task?.ticked ?? []);
  const missing = task ? openMandatory(task) : [];
  const [ticking, setTicking] = useState("");

  async function tick(checkpoint: string, on: boolean) {
    if (!task) return;
    setError("");
    setTicking(checkpoint);
    // Shown at once; the server's answer (with who and when) replaces it.
    const before = task;
    const shownTicked = on ? [...(task.ticked ?? []), checkpoint] : (task.ticked ?? []).filter((x) => x !== checkpoint);
    setTasks((list) => list?.map((x) => (x.id === task.id ? { ...x, ticked: shownTicked } : x)) ?? null);
    try {
      const changed = await tickCheckpoint<Task>(task.id, checkpoint, on);
      // An automatic phase may have moved on: then the task is no longer open.
      if (changed.status !== "open") await load();
      else setTasks((list) => list?.map((x) => (x.id === changed.id ? { ...x, ...changed } : x)) ?? null);
    } catch (e) {
      setTasks((list) => list?.map((x) => (x.id === before.id ? before : x)) ?? null);
      setError(t("phTickFailed", { reason: e instanceof ApiError ? e.detail : String(e) }));
    } finally {
      setTicking("");
    }
  }
  const [fieldLabels, setFieldLabels] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!task?.subject?.type) return;
    void loadSubjectType(task.subject.type).then((st) => {
      const fields = Array.isArray(st?.fields) ? (st!.fields as { name: string; label?: Labels }[]) : [];
      setFieldLabels(Object.fromEntries(fields.map((f) => [f.name, pick(f.label, lang) || f.name])));
    });
  }, [task?.subject?.type, lang]);
  const [labels, setLabels] = useState<Record<string, string>>({});
  useEffect(() => {
    setLabels({});
    // Tasks carry their outcomes' labels; only tasks opened before they did need the flow.
    if (task && task.outcomes.some((o) => typeof o === "string")) void outcomeLabels(task).then(setLabels);
  }, [task?.id]); // eslint-disable-line react-hooks/exhaustive-deps

  async function complete(outcome: string, label: string) {
    if (!task) return;
    setError("");
    try {
      await api.complete(task.id, outcome, [...ticked]);
      // The button's text (the outcome's label), not its port name.
      setDone(t("completed", { task: task.title, outcome: label }));
      setSelectedId(null);
      await load();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }

  async function claim() {
    if (!task) return;
    try {
      await api.claim(task.id);
      await load();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }

  return (
    <div className="split" data-testid="inbox">
      <div className="list">
        <div className="tabs">
          <button className={scope === "mine" ? "on" : ""} onClick={() => setScope("mine")} data-scope="mine">{t("myTasks")}</button>
          <button className={scope === "roles" ? "on" : ""} onClick={() => setScope("roles")} data-scope="roles">{t("roleTasks")}</button>
          <div className="spacer" />
          <TaskTypeFilter value={taskType} onChange={(type) => setTaskType(type as TaskType | "")} />
          <button className="ghost" onClick={() => void load()} title={t("refresh")} aria-label={t("refresh")} data-testid="refresh">⟳</button>
        </div>
        {tasks === null && <div className="list-item muted">{t("loading")}</div>}
        {tasks?.length === 0 && <div className="list-item muted">{t("noTasks")}</div>}
        {tasks?.map((x) => (
          <div key={x.id} className={`list-item ${x.overdue ? "overdue" : ""} ${x.id === selectedId ? "on" : ""}`} onClick={() => setSelectedId(x.id)} data-task={x.id}>
            <div className="title">{x.title} <TaskTypeTag kind={x.kind} /> {x.overdue && <span className="overdue-tag">{t("overdue")}</span>}</div>
            <div className="muted small-text">
              {x.subject?.key} · {x.role ?? x.assignee ?? ""}{x.due ? ` · ${t("due")} ${when(x.due, lang)}` : ""}
            </div>
          </div>
        ))}
      </div>
      <div className="detail">
        {error && <div className="error-box" role="alert" style={{ margin: 16 }}>{error}</div>}
        {done && !task && <div className="toast ok" style={{ position: "static", transform: "none", margin: 16, display: "inline-block" }} role="status">✓ {done}</div>}
        {task ? (
          <div className="task-detail" data-testid="task-detail">
            <h2>{task.title} {task.overdue && <span className="overdue-tag">{t("overdue")}</span>}</h2>
            <div className="muted" style={{ marginBottom: 14 }}>
              {task.role ? `${task.role}` : task.assignee}
              {task.due ? ` · ${t("due")} ${when(task.due, lang)}` : ""}
              {scope === "roles" && !task.assignee && <> · <button className="small" onClick={claim}>{t("claim")}</button></>}
            </div>
            {task.instructions && (
              <div className="card"><h3>{t("instructions")}</h3><div style={{ whiteSpace: "pre-wrap" }}>{task.instructions}</div></div>
            )}
            <div className="card">
              <h3>{t("subject")}: {task.subject?.key} <span className="badge">{task.subject?.status}</span></h3>
              <table className="fields-table"><tbody>
                {flatten(task.subject?.fields ?? {}).map(([k, v]) => <tr key={k}><td title={k}>{fieldLabels[k] ?? k}</td><td>{v}</td></tr>)}
              </tbody></table>
            </div>
            {task.checkpoints.length > 0 && (
              <div className="card" data-testid="checkpoints">
                <h3>{t("checkpoints")} <span className="muted small-text" data-testid="checkpoint-progress">{t("phProgress", { done: progress(task) })}</span></h3>
                {task.checkpoints.map((c) => {
                  const by = tickOf(task, c.id);
                  return (
                    <label key={c.id} className="checkpoint" data-checkpoint={c.id}>
                      <input type="checkbox" checked={ticked.has(c.id)} disabled={ticking !== ""} onChange={(e) => void tick(c.id, e.target.checked)} />
                      {c.label} {c.mandatory && <span className="mandatory">* {t("mandatory")}</span>}
                      {by && <span className="muted small-text" data-testid="ticked-by"> · {t("phTickedBy", { who: by.by, when: when(by.at, lang) })}</span>}
                    </label>
                  );
                })}
              </div>
            )}
            {reviewing && (
              <ReviewTask
                key={task.id}
                subjectId={task.subject.id}
                onFound={setInReview}
                onDecided={(message) => { setDone(message); setSelectedId(null); void load(); }}
              />
            )}
            {missing.length > 0 && (
              <div className="muted" role="note" data-testid="complete-blocked">{t("phBlocked", { names: missing.map((m) => m.label).join(", ") })}</div>
            )}
            <div className="outcomes">
              {task.outcomes.map((o) => {
                const port = typeof o === "string" ? o : o.port;
                if (reviewing && inReview && (port === "agreed" || port === "declined")) return null;
                const label = typeof o === "string" ? labels[o] ?? humanize(o) : o.label || labels[o.port] || humanize(o.port);
                return (
                  <button key={port} className={port.startsWith("approve") || port === "done" || port === "ok" ? "primary" : ""} disabled={missing.length > 0} title={missing.length ? t("phBlocked", { names: missing.map((m) => m.label).join(", ") }) : ""} onClick={() => void complete(port, label)} data-outcome={port}>
                    {label}
                  </button>
                );
              })}
            </div>
          </div>
        ) : (
          !done && <div className="centered muted">{tasks?.length ? t("pickTask") : ""}</div>
        )}
      </div>
    </div>
  );
}
