// The email template library (D2 "E-Mail Vorlage"): list, write per language, preview on a real subject.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { pick, useT, type TextKey } from "../i18n";
import type { Labels, Lang, MessageTemplate, Problem, RenderedTemplate, TemplateSummary, TemplateText } from "../types";
import { when } from "../util";

const LANGS: { lang: Lang; text: TextKey }[] = [
  { lang: "nl", text: "opsLangNl" },
  { lang: "de", text: "opsLangDe" },
  { lang: "en", text: "opsLangEn" },
];
const NAME = /^[a-z][a-z0-9_-]{0,63}$/;
type SubjectTypeInfo = { name: string; label?: Labels | string };

/** The texts to store: a language with both a subject line and a message; half of one is a mistake. */
export function textsToSave(texts: Partial<Record<Lang, TemplateText>>): { texts: Partial<Record<Lang, TemplateText>>; half: Lang[] } {
  const kept: Partial<Record<Lang, TemplateText>> = {};
  const half: Lang[] = [];
  for (const { lang } of LANGS) {
    const x = texts[lang];
    const subject = x?.subject.trim() ?? "";
    const html = x?.html.trim() ?? "";
    if (subject && html) kept[lang] = { subject: x!.subject, html: x!.html, ...(x!.text?.trim() ? { text: x!.text } : {}) };
    else if (subject || html) half.push(lang);
  }
  return { texts: kept, half };
}

export function TemplateLibrary() {
  const { t, lang } = useT();
  const [list, setList] = useState<TemplateSummary[] | null>(null);
  const [types, setTypes] = useState<SubjectTypeInfo[]>([]);
  const [editing, setEditing] = useState<MessageTemplate | "new" | null>(null);
  // A new template opens again under its name once created (a new editor): it says it was saved.
  const [justSaved, setJustSaved] = useState(false);
  const [error, setError] = useState("");

  const load = useCallback(() => {
    api.templates().then(setList, (e) => setError(e instanceof ApiError ? e.detail : String(e)));
  }, []);
  useEffect(() => {
    load();
    api.subjectTypes().then((data) => setTypes(Array.isArray(data) ? (data as SubjectTypeInfo[]) : []), () => undefined);
  }, [load]);
  const typeLabel = (name: string) => pick(types.find((x) => x.name === name)?.label, lang) || name;

  async function open(name: string) {
    setJustSaved(false);
    try {
      setEditing(await api.template(name));
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }

  if (editing) {
    return (
      <TemplateEditor
        key={editing === "new" ? "new" : editing.name}
        template={editing === "new" ? null : editing}
        types={types}
        typeLabel={typeLabel}
        saved={justSaved}
        onBack={() => { setEditing(null); load(); }}
        onSaved={(saved) => { setJustSaved(true); setEditing(saved); }}
      />
    );
  }
  return (
    <div className="ops-section" data-testid="template-library">
      <div className="ops-inline ops-between">
        <p className="muted ops-help">{t("opsTemplatesHelp")}</p>
        <button className="primary" onClick={() => { setJustSaved(false); setEditing("new"); }}>{t("opsNewTemplate")}</button>
      </div>
      {error && <div className="error-box" role="alert">{error}</div>}
      {list === null ? (
        <div className="muted">{t("loading")}</div>
      ) : list.length === 0 ? (
        <div className="card muted">{t("opsNoTemplates")}</div>
      ) : (
        <table className="table templates-table">
          <thead>
            <tr><th>{t("opsTemplateName")}</th><th>{t("opsForSubjects")}</th><th>{t("description")}</th><th>{t("opsLanguages")}</th><th>{t("opsUpdated")}</th><th /></tr>
          </thead>
          <tbody>
            {list.map((x) => (
              <tr key={x.name} data-template={x.name}>
                <td><code>{x.name}</code></td>
                <td>{typeLabel(x.subject_type)}</td>
                <td data-i18n-skip>{x.description}</td>
                <td>{x.languages.map((l) => l.toUpperCase()).join(", ")}</td>
                <td className="muted">{when(x.updated_at, lang)} {t("by")} {x.updated_by}</td>
                <td className="row-actions"><button className="small" onClick={() => open(x.name)}>{t("opsEdit")}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function TemplateEditor(props: {
  template: MessageTemplate | null;
  types: SubjectTypeInfo[];
  typeLabel: (name: string) => string;
  saved: boolean;
  onBack: () => void;
  onSaved: (t: MessageTemplate) => void;
}) {
  const { t, lang } = useT();
  const existing = props.template;
  const [name, setName] = useState(existing?.name ?? "");
  const [subjectType, setSubjectType] = useState(existing?.subject_type ?? props.types[0]?.name ?? "debtor");
  const [description, setDescription] = useState(existing?.description ?? "");
  const [texts, setTexts] = useState<Partial<Record<Lang, TemplateText>>>(existing?.texts ?? {});
  const [tab, setTab] = useState<Lang>(existing?.languages[0] ?? lang);
  const [error, setError] = useState("");
  const [problems, setProblems] = useState<Problem[]>([]);
  const [saved, setSaved] = useState(props.saved);

  const current = texts[tab] ?? { subject: "", html: "", text: "" };
  const setText = (key: keyof TemplateText, value: string) => {
    setTexts({ ...texts, [tab]: { ...current, [key]: value } });
    setSaved(false);
  };

  async function save(e: React.FormEvent) {
    e.preventDefault();
    setError("");
    setProblems([]);
    const { texts: kept, half } = textsToSave(texts);
    if (!existing && !NAME.test(name)) { setError(`${t("opsTemplateName")}: ${t("opsTemplateNameHelp")}`); return; }
    if (half.length) { setError(half.map((l) => t("opsHalfText", { lang: l.toUpperCase() })).join(" ")); return; }
    if (!Object.keys(kept).length) { setError(t("opsNeedOneLang")); return; }
    try {
      const body = { subject_type: subjectType, description, texts: kept };
      const result = existing ? await api.saveTemplate(existing.name, body) : await api.createTemplate({ name, ...body });
      setSaved(true);
      props.onSaved(result);
    } catch (err) {
      if (err instanceof ApiError) {
        setError(err.problems.length ? t("opsTemplateProblems") : err.detail);
        setProblems(err.problems);
      } else setError(String(err));
    }
  }

  return (
    <div className="ops-section" data-testid="template-editor">
      <button className="ghost small" onClick={props.onBack}>← {t("opsBackToList")}</button>
      <form className="card ops-form" onSubmit={save} noValidate>
        <div className="ops-grid">
          <label>
            {t("opsTemplateName")}
            {existing ? <code>{existing.name}</code> : <input name="template_name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />}
            {!existing && <span className="ops-field-help">{t("opsTemplateNameHelp")}</span>}
          </label>
          <label>
            {t("opsForSubjects")}
            <select name="subject_type" value={subjectType} onChange={(e) => setSubjectType(e.target.value)}>
              {props.types.map((x) => <option key={x.name} value={x.name}>{props.typeLabel(x.name)}</option>)}
            </select>
          </label>
          <label className="ops-wide">
            {t("description")}
            <input name="description" value={description} maxLength={500} onChange={(e) => setDescription(e.target.value)} />
          </label>
        </div>
        <div className="tabs ops-tabs" role="tablist">
          {LANGS.map((l) => (
            <button type="button" key={l.lang} role="tab" aria-selected={tab === l.lang} className={tab === l.lang ? "on" : ""} data-lang-tab={l.lang} onClick={() => setTab(l.lang)}>
              {t(l.text)}{texts[l.lang]?.subject ? " ✓" : ""}
            </button>
          ))}
        </div>
        {!texts[tab]?.subject && !texts[tab]?.html && <p className="muted small-text">{t("opsNoTextInLang")}</p>}
        <label>
          {t("opsMailSubject")}
          <input name="mail_subject" value={current.subject} onChange={(e) => setText("subject", e.target.value)} />
        </label>
        <label>
          {t("opsHtmlBody")}
          <textarea name="mail_html" rows={8} className="ops-code" value={current.html} onChange={(e) => setText("html", e.target.value)} />
        </label>
        <label>
          {t("opsTextBody")}
          <textarea name="mail_text" rows={4} className="ops-code" value={current.text ?? ""} onChange={(e) => setText("text", e.target.value)} />
          <span className="ops-field-help">{t("opsTextBodyHelp")}</span>
        </label>
        {error && (
          <div className="error-box" role="alert">
            <div>{error}</div>
            {problems.length > 0 && (
              <ul className="problem-lines">
                {problems.map((p, i) => <li key={i}>{p.message} <code>{p.path ?? p.code}</code></li>)}
              </ul>
            )}
          </div>
        )}
        <div className="ops-form-actions">
          <button className="primary" type="submit">{t("opsSave")}</button>
          {saved && <span className="ops-ok" role="status">{t("opsSavedNow")}</span>}
          {!saved && existing && <span className="muted small-text">{t("opsSavedAt", { when: when(existing.updated_at, lang), by: existing.updated_by })}</span>}
        </div>
      </form>
      {existing && <TemplatePreview template={existing} language={tab} />}
    </div>
  );
}

function TemplatePreview({ template, language }: { template: MessageTemplate; language: Lang }) {
  const { t } = useT();
  const [subjects, setSubjects] = useState<{ id: string; key: string }[] | null>(null);
  const [subjectId, setSubjectId] = useState("");
  const [rendered, setRendered] = useState<RenderedTemplate | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    api.sampleSubjects(template.subject_type).then(
      (list) => { setSubjects(list); setSubjectId(list[0]?.id ?? ""); },
      (e) => setError(e instanceof ApiError ? e.detail : String(e)),
    );
  }, [template.subject_type]);

  async function preview() {
    setError("");
    setRendered(null);
    try {
      setRendered(await api.previewTemplate(template.name, subjectId, language));
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }

  return (
    <div className="card ops-form" data-testid="template-preview">
      <h3>{t("opsPreview")}</h3>
      <p className="muted small-text">{t("opsPreviewHelp")}</p>
      {subjects !== null && subjects.length === 0 ? (
        <p className="muted">{t("opsNoSubjectsOfType")}</p>
      ) : (
        <div className="ops-inline">
          <label>
            {t("opsPreviewWith")}
            <select name="preview_subject" value={subjectId} onChange={(e) => setSubjectId(e.target.value)}>
              {(subjects ?? []).map((s) => <option key={s.id} value={s.id}>{s.key}</option>)}
            </select>
          </label>
          <button onClick={preview} disabled={!subjectId || !template.texts[language]}>{t("opsPreview")} ({language.toUpperCase()})</button>
        </div>
      )}
      {error && <div className="error-box" role="alert">{error}</div>}
      {rendered && (
        <div className="ops-rendered">
          <div><strong data-i18n-skip data-testid="preview-subject">{rendered.subject}</strong></div>
          <iframe className="ops-body" title={t("opsPreview")} sandbox="" srcDoc={rendered.html} data-testid="preview-body" />
        </div>
      )}
    </div>
  );
}
