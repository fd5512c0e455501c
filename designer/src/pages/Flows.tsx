import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { useT } from "../i18n";
import { flowTitle } from "../flowLabels";
import { navigate } from "../router";
import type { Flow, FlowSummary, Problem } from "../types";
import { download, problemPlace, slug, when } from "../util";

const SUBJECT_TYPES = ["invoice", "debtor", "client", "expense_claim"];

export function FlowsPage() {
  const { t, lang } = useT();
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [error, setError] = useState("");
  const [problems, setProblems] = useState<Problem[]>([]);
  const [creating, setCreating] = useState<null | { mode: "new" } | { mode: "duplicate"; from: FlowSummary }>(null);
  const [dragging, setDragging] = useState(false);
  const [subjectTypes, setSubjectTypes] = useState<string[]>(SUBJECT_TYPES);
  const fileInput = useRef<HTMLInputElement>(null);

  const load = useCallback(() => {
    api.flows().then(setFlows, (e) => setError(e instanceof ApiError ? e.detail : String(e)));
  }, []);
  useEffect(() => {
    load();
    api.subjectTypes().then(
      (data) => {
        const list = Array.isArray(data) ? data : [];
        const names = list.map((s) => (typeof s === "string" ? s : (s as { name?: string }).name)).filter(Boolean) as string[];
        if (names.length) setSubjectTypes(names);
      },
      () => undefined,
    );
  }, [load]);

  async function importText(text: string, filename: string) {
    setError("");
    setProblems([]);
    try {
      const record = await api.importFlow(text);
      load();
      if (record?.key) navigate(`/flows/${encodeURIComponent(record.key)}`);
    } catch (e) {
      if (e instanceof ApiError) {
        setError(`${filename}: ${e.detail}`);
        setProblems(e.problems);
      } else setError(String(e));
    }
  }

  async function importFiles(files: FileList | null) {
    if (!files) return;
    for (const file of Array.from(files)) await importText(await file.text(), file.name);
  }

  async function exportFlow(f: FlowSummary) {
    try {
      download(`${f.key}.json`, await api.exportText(f.key));
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }

  async function remove(f: FlowSummary) {
    if (!confirm(`${t("delete")} "${flowTitle(f, lang)}" (${f.key})?`)) return;
    try {
      await api.deleteFlow(f.key);
      load();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }

  return (
    <div
      className={`page flows-page ${dragging ? "dragging" : ""}`}
      onDragOver={(e) => { if (e.dataTransfer.types.includes("Files")) { e.preventDefault(); setDragging(true); } }}
      onDragLeave={(e) => { if (e.currentTarget === e.target) setDragging(false); }}
      onDrop={(e) => { e.preventDefault(); setDragging(false); void importFiles(e.dataTransfer.files); }}
    >
      <div className="page-head">
        <h1>{t("flows")}</h1>
        <div className="spacer" />
        <input ref={fileInput} type="file" accept=".json,application/json" hidden data-testid="import-file" onChange={(e) => { void importFiles(e.target.files); e.target.value = ""; }} />
        <button onClick={() => fileInput.current?.click()}>{t("import")}</button>
        <button className="primary" onClick={() => setCreating({ mode: "new" })}>{t("newFlow")}</button>
      </div>
      {error && (
        <div className="error-box" role="alert">
          <div>{error}</div>
          {problems.length > 0 && (
            <ul className="problem-lines">
              {problems.map((p, i) => (<li key={i}><code>{p.code}</code> {p.message} <span className="muted">{problemPlace(p)}</span></li>))}
            </ul>
          )}
        </div>
      )}
      <div className="drop-hint muted">{t("dropHere")}</div>
      {flows === null ? (
        <div className="muted">{t("loading")}</div>
      ) : (
        <table className="table flows-table">
          <thead>
            <tr><th>{t("name")}</th><th>{t("key")}</th><th>{t("latestVersion")}</th><th>{t("state")}</th><th>{t("openInstances")}</th><th>{t("lastChange")}</th><th /></tr>
          </thead>
          <tbody>
            {flows.map((f) => (
              <tr key={f.key} data-flow={f.key}>
                <td><a href={`/flows/${f.key}`} onClick={(e) => { e.preventDefault(); navigate(`/flows/${encodeURIComponent(f.key)}`); }}><strong>{flowTitle(f, lang)}</strong></a></td>
                <td><code>{f.key}</code></td>
                <td>{f.latest_version ?? "—"}</td>
                <td>
                  {f.latest_version ? <span className="badge ok">{t("published")}</span> : null}{" "}
                  {f.has_draft ? <span className="badge draft">{t("draft")}</span> : null}
                </td>
                <td>
                  {f.latest_version ? (
                    <a href={`/running/${f.key}`} onClick={(e) => { e.preventDefault(); navigate(`/running/${encodeURIComponent(f.key)}`); }}>{f.open_instances}</a>
                  ) : (f.open_instances ?? 0)}
                </td>
                <td className="muted">{when(f.updated_at, lang)} {f.updated_by ? `${t("by")} ${f.updated_by}` : ""}</td>
                <td className="row-actions">
                  <button className="small" onClick={() => exportFlow(f)}>{t("export")}</button>
                  <button className="small" onClick={() => setCreating({ mode: "duplicate", from: f })}>{t("duplicate")}</button>
                  {!f.latest_version && <button className="small danger" onClick={() => remove(f)}>{t("delete")}</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && (
        <CreateDialog
          mode={creating.mode}
          from={creating.mode === "duplicate" ? creating.from : undefined}
          subjectTypes={subjectTypes}
          onClose={() => setCreating(null)}
          onDone={(key) => { setCreating(null); navigate(`/flows/${encodeURIComponent(key)}`); }}
        />
      )}
    </div>
  );
}

function CreateDialog(props: {
  mode: "new" | "duplicate";
  from?: FlowSummary;
  subjectTypes: string[];
  onClose: () => void;
  onDone: (key: string) => void;
}) {
  const { t } = useT();
  const [name, setName] = useState(props.from ? `${props.from.name} (copy)` : "");
  const [key, setKey] = useState(props.from ? `${props.from.key}-copy` : "");
  const [keyTouched, setKeyTouched] = useState(Boolean(props.from));
  const [subjectType, setSubjectType] = useState(props.subjectTypes[0] ?? "invoice");
  const [error, setError] = useState("");
  const [problems, setProblems] = useState<Problem[]>([]);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError("");
    try {
      if (props.mode === "duplicate" && props.from) {
        const record = await api.duplicate(props.from.key, key, name);
        props.onDone(record?.key ?? key);
      } else {
        const flow: Flow = {
          format: "procedo.flow/1",
          key,
          name,
          subject_type: subjectType,
          trigger: { kind: "manual" },
          nodes: [{ id: "start", type: "start", position: { x: 0, y: 0 } }],
          edges: [],
        };
        const record = await api.createFlow(flow);
        props.onDone(record?.key ?? key);
      }
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : String(err));
      setProblems(err instanceof ApiError ? err.problems : []);
    }
  }

  return (
    <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) props.onClose(); }}>
      <form className="modal" onSubmit={submit}>
        <h2>{props.mode === "new" ? t("newFlow") : `${t("duplicate")}: ${props.from?.name}`}</h2>
        <label>{t("name")}<input name="name" autoFocus value={name} required onChange={(e) => { setName(e.target.value); if (!keyTouched) setKey(slug(e.target.value)); }} /></label>
        <label>{t("key")}<input name="key" value={key} required pattern="[a-z0-9][a-z0-9_\-]*" onChange={(e) => { setKey(e.target.value); setKeyTouched(true); }} /></label>
        {props.mode === "new" && (
          <label>{t("subjectType")}
            <select name="subject_type" value={subjectType} onChange={(e) => setSubjectType(e.target.value)}>
              {props.subjectTypes.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
        )}
        {error && <div className="error" role="alert">{error}{problems.map((p, i) => <div key={i}>{p.message}</div>)}</div>}
        <div className="modal-actions">
          <button type="button" onClick={props.onClose}>{t("cancel")}</button>
          <button type="submit" className="primary">{t("create")}</button>
        </div>
      </form>
    </div>
  );
}
