// The tenant's mail server and sender, and a test send that shows the server's answer (issue 15, E4).
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { useT, type TextKey } from "../i18n";
import type { EmailSettings, Lang, MailTestResult } from "../types";
import { useUser } from "../user";
import { when } from "../util";
import { fieldOfPath, formOf, toInput, type EmailForm, type FormErrors } from "./emailForm";

const LANG_TEXT: Record<Lang, TextKey> = { nl: "opsLangNl", de: "opsLangDe", en: "opsLangEn" };

export function EmailSettingsSection() {
  const { t, lang } = useT();
  const user = useUser();
  const [stored, setStored] = useState<EmailSettings | null>(null);
  const [form, setForm] = useState<EmailForm | null>(null);
  const [errors, setErrors] = useState<FormErrors>({});
  const [serverErrors, setServerErrors] = useState<Partial<Record<keyof EmailForm, string>>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [dirty, setDirty] = useState(false);
  const [testTo, setTestTo] = useState(user?.email ?? "");
  const [testing, setTesting] = useState(false);
  const [test, setTest] = useState<MailTestResult | null>(null);
  const [testError, setTestError] = useState("");

  useEffect(() => {
    api.emailSettings().then(
      (s) => { setStored(s); setForm(formOf(s)); },
      (e) => setMessage({ ok: false, text: e instanceof ApiError ? e.detail : String(e) }),
    );
  }, []);

  function set<K extends keyof EmailForm>(key: K, value: EmailForm[K]) {
    setForm((f) => (f ? { ...f, [key]: value } : f));
    setErrors((e) => ({ ...e, [key]: undefined }));
    setServerErrors((e) => ({ ...e, [key]: undefined }));
    setDirty(true);
    setMessage(null);
  }

  async function save(e: React.FormEvent) {
    e.preventDefault();
    if (!form || !stored) return;
    const checked = toInput(form, stored.password_set);
    setErrors(checked.errors);
    setServerErrors({});
    if (!checked.body) { setMessage({ ok: false, text: t("opsFixFields") }); return; }
    setSaving(true);
    try {
      const saved = await api.saveEmailSettings(checked.body);
      setStored(saved);
      setForm(formOf(saved));
      setDirty(false);
      setMessage({ ok: true, text: t("opsSavedNow") });
    } catch (err) {
      if (err instanceof ApiError) {
        const placed: Partial<Record<keyof EmailForm, string>> = {};
        for (const p of err.problems) {
          const field = fieldOfPath(p.path);
          if (field) placed[field] = p.message;
        }
        setServerErrors(placed);
        setMessage({ ok: false, text: Object.keys(placed).length ? t("opsFixFields") : err.detail });
      } else setMessage({ ok: false, text: String(err) });
    } finally {
      setSaving(false);
    }
  }

  async function sendTest() {
    setTesting(true);
    setTest(null);
    setTestError("");
    try {
      setTest(await api.testEmail(testTo.trim()));
    } catch (err) {
      setTestError(err instanceof ApiError ? err.detail : String(err));
    } finally {
      setTesting(false);
    }
  }

  if (!form || !stored) return message ? <div className="error-box">{message.text}</div> : <div className="muted">{t("loading")}</div>;
  const fieldError = (key: keyof EmailForm) => {
    const local = errors[key];
    const text = local ? t(local) : serverErrors[key];
    return text ? <span className="ops-field-error" role="alert" data-field-error={key}>{text}</span> : null;
  };
  const senderExample = form.sender_name.trim() ? `${form.sender_name.trim()} <${form.sender_address.trim() || "…"}>` : form.sender_address.trim() || "…";

  return (
    <div className="ops-section" data-testid="email-settings">
      <p className="muted ops-help">{t("opsEmailHelp")}</p>
      {!stored.configured && <div className="ops-result bad">{t("opsNotConfigured")}</div>}
      <form className="card ops-form" onSubmit={save} noValidate>
        <div className="ops-grid">
          <label className="ops-wide">
            {t("opsHost")}
            <input name="host" value={form.host} onChange={(e) => set("host", e.target.value)} aria-invalid={!!fieldError("host")} autoComplete="off" />
            <span className="ops-field-help">{t("opsHostHelp")}</span>
            {fieldError("host")}
          </label>
          <label>
            {t("opsPort")}
            <input name="port" inputMode="numeric" value={form.port} onChange={(e) => set("port", e.target.value)} aria-invalid={!!fieldError("port")} />
            <span className="ops-field-help">{t("opsPortHelp")}</span>
            {fieldError("port")}
          </label>
          <label className="ops-wide">
            {t("opsSecurity")}
            <select name="security" value={form.security} onChange={(e) => set("security", e.target.value as EmailForm["security"])}>
              <option value="starttls">{t("opsStarttls")}</option>
              <option value="tls">{t("opsTls")}</option>
              <option value="none">{t("opsNone")}</option>
            </select>
          </label>
          <label>
            {t("opsUsername")}
            <input name="username" value={form.username} onChange={(e) => set("username", e.target.value)} autoComplete="off" />
            <span className="ops-field-help">{t("opsUsernameHelp")}</span>
            {fieldError("username")}
          </label>
          <label>
            {t("opsPassword")}
            <input name="password" type="password" value={form.password} onChange={(e) => set("password", e.target.value)} autoComplete="new-password" disabled={form.removePassword} />
            <span className="ops-field-help" data-testid="password-state">{stored.password_set ? t("opsPasswordSet") : t("opsPasswordNotSet")}</span>
            {fieldError("password")}
          </label>
          {stored.password_set && (
            <label className="ops-check">
              <input type="checkbox" checked={form.removePassword} onChange={(e) => { set("removePassword", e.target.checked); if (e.target.checked) set("password", ""); }} />
              {t("opsPasswordRemove")}
            </label>
          )}
          <label>
            {t("opsSenderAddress")}
            <input name="sender_address" type="email" value={form.sender_address} onChange={(e) => set("sender_address", e.target.value)} aria-invalid={!!fieldError("sender_address")} />
            {fieldError("sender_address")}
          </label>
          <label>
            {t("opsSenderName")}
            <input name="sender_name" value={form.sender_name} onChange={(e) => set("sender_name", e.target.value)} />
            <span className="ops-field-help">{t("opsSenderHelp", { example: senderExample })}</span>
            {fieldError("sender_name")}
          </label>
          <label>
            {t("opsReplyTo")}
            <input name="reply_to" type="email" value={form.reply_to} onChange={(e) => set("reply_to", e.target.value)} />
            <span className="ops-field-help">{t("opsReplyToHelp")}</span>
            {fieldError("reply_to")}
          </label>
          <label>
            {t("opsDefaultLanguage")}
            <select name="default_language" value={form.default_language} onChange={(e) => set("default_language", e.target.value as Lang)}>
              {(["nl", "de", "en"] as Lang[]).map((l) => <option key={l} value={l}>{t(LANG_TEXT[l])}</option>)}
            </select>
            <span className="ops-field-help">{t("opsDefaultLanguageHelp")}</span>
          </label>
        </div>
        <div className="ops-form-actions">
          <button className="primary" type="submit" disabled={saving}>{saving ? t("opsSaving") : t("opsSave")}</button>
          {message && <span className={message.ok ? "ops-ok" : "ops-field-error"} role="status" data-testid="email-save-message">{message.text}</span>}
          {!message && stored.updated_at && <span className="muted small-text">{t("opsSavedAt", { when: when(stored.updated_at, lang), by: stored.updated_by ?? "" })}</span>}
        </div>
      </form>

      <div className="card ops-form" data-testid="email-test">
        <h3>{t("opsTestTitle")}</h3>
        <p className="muted small-text">{t("opsTestHelp")}</p>
        <div className="ops-inline">
          <label>
            {t("opsTestTo")}
            <input name="test_to" type="email" value={testTo} onChange={(e) => setTestTo(e.target.value)} />
          </label>
          <button onClick={sendTest} disabled={testing || !stored.configured}>{testing ? t("opsTestSending") : t("opsTestSend")}</button>
        </div>
        {dirty && <div className="ops-warn small-text">{t("opsUnsavedTest")}</div>}
        {testError && <div className="error-box" role="alert">{testError}</div>}
        {test && (
          <div className={`ops-result ${test.ok ? "ok" : "bad"}`} role="status" data-testid="email-test-result" data-ok={test.ok}>
            <div>{test.ok ? t("opsTestOk", { to: test.to }) : t("opsTestFailed", { to: test.to })}</div>
            <div className="small-text">{t("opsServerAnswer")} ({test.server}):</div>
            <code className="ops-error-text">{test.detail}</code>
          </div>
        )}
      </div>
    </div>
  );
}
