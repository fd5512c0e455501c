// The tenant's SMS provider (the local sink, or an HTTP provider with a bearer token) and a
// test send that shows the provider's answer (issue 15 item 4). The token goes in, never out.
import { useEffect, useState } from "react";
import { ApiError } from "../api";
import { useT } from "../i18n";
import { smsApi, type SmsProvider, type SmsSettings, type SmsTestResult } from "../sms/api";
import { when } from "../util";

interface SmsForm {
  provider: SmsProvider;
  url: string;
  token: string;
  sender: string;
}

type Field = keyof SmsForm;

function formOf(s: SmsSettings): SmsForm {
  return { provider: s.provider ?? "sink", url: s.url ?? "", token: "", sender: s.sender ?? "" };
}

function fieldOfPath(path: string | null | undefined): Field | null {
  const name = (path ?? "").replace(/^\$\./, "");
  return name === "provider" || name === "url" || name === "token" || name === "sender" ? name : null;
}

export function SmsSettingsSection() {
  const { t, lang } = useT();
  const [stored, setStored] = useState<SmsSettings | null>(null);
  const [form, setForm] = useState<SmsForm | null>(null);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [testTo, setTestTo] = useState("");
  const [testing, setTesting] = useState(false);
  const [test, setTest] = useState<SmsTestResult | null>(null);
  const [testError, setTestError] = useState("");

  useEffect(() => {
    smsApi.settings().then(
      (s) => { setStored(s); setForm(formOf(s)); },
      (e) => setMessage({ ok: false, text: e instanceof ApiError ? e.detail : String(e) }),
    );
  }, []);

  function set<K extends Field>(key: K, value: SmsForm[K]) {
    setForm((f) => (f ? { ...f, [key]: value } : f));
    setErrors((e) => ({ ...e, [key]: undefined }));
    setMessage(null);
  }

  async function save(e: React.FormEvent) {
    e.preventDefault();
    if (!form || !stored) return;
    const local: Partial<Record<Field, string>> = {};
    if (form.provider === "http" && !form.url.trim()) local.url = t("smsNeedUrl");
    if (form.provider === "http" && !form.token && !stored.token_set) local.token = t("smsNeedToken");
    setErrors(local);
    if (Object.keys(local).length) { setMessage({ ok: false, text: t("opsFixFields") }); return; }
    setSaving(true);
    try {
      const http = form.provider === "http";
      const saved = await smsApi.save({
        provider: form.provider,
        url: http ? form.url.trim() : null,
        // Left out keeps the stored token: it is never sent back to be re-sent.
        ...(http && form.token ? { token: form.token } : {}),
        sender: form.sender.trim(),
      });
      setStored(saved);
      setForm(formOf(saved));
      setMessage({ ok: true, text: t("opsSavedNow") });
    } catch (err) {
      if (err instanceof ApiError) {
        const placed: Partial<Record<Field, string>> = {};
        for (const p of err.problems) {
          const field = fieldOfPath(p.path);
          if (field) placed[field] = p.message;
        }
        setErrors(placed);
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
      setTest(await smsApi.test(testTo.trim()));
    } catch (err) {
      setTestError(err instanceof ApiError ? err.detail : String(err));
    } finally {
      setTesting(false);
    }
  }

  if (!form || !stored) return message ? <div className="error-box">{message.text}</div> : <div className="muted">{t("loading")}</div>;
  const fieldError = (key: Field) =>
    errors[key] ? <span className="ops-field-error" role="alert" data-field-error={key}>{errors[key]}</span> : null;

  return (
    <div className="ops-section" data-testid="sms-settings">
      <p className="muted ops-help">{t("smsHelp")}</p>
      {!stored.configured && <div className="ops-result bad">{t("smsNotConfigured")}</div>}
      <form className="card ops-form" onSubmit={save} noValidate>
        <div className="ops-grid">
          <label className="ops-wide">
            {t("smsProvider")}
            <select name="provider" value={form.provider} onChange={(e) => set("provider", e.target.value as SmsProvider)}>
              <option value="sink">{t("smsProviderSink")}</option>
              <option value="http">{t("smsProviderHttp")}</option>
            </select>
            {form.provider === "sink" && stored.sink_folder && (
              <span className="ops-field-help" data-testid="sms-sink-folder">{t("smsSinkFolder", { folder: stored.sink_folder })}</span>
            )}
          </label>
          {form.provider === "http" && (
            <>
              <label className="ops-wide">
                {t("smsUrl")}
                <input name="url" value={form.url} onChange={(e) => set("url", e.target.value)} aria-invalid={!!errors.url} autoComplete="off" />
                <span className="ops-field-help">{t("smsUrlHelp")}</span>
                {fieldError("url")}
              </label>
              <label className="ops-wide">
                {t("smsToken")}
                <input name="token" type="password" value={form.token} onChange={(e) => set("token", e.target.value)} aria-invalid={!!errors.token} autoComplete="new-password" />
                <span className="ops-field-help" data-testid="token-state">{stored.token_set ? t("smsTokenSet") : t("smsTokenNotSet")}</span>
                {fieldError("token")}
              </label>
            </>
          )}
          <label>
            {t("smsSender")}
            <input name="sender" value={form.sender} maxLength={16} onChange={(e) => set("sender", e.target.value)} aria-invalid={!!errors.sender} />
            <span className="ops-field-help">{t("smsSenderHelp")}</span>
            {fieldError("sender")}
          </label>
        </div>
        <div className="ops-form-actions">
          <button className="primary" type="submit" disabled={saving}>{saving ? t("opsSaving") : t("opsSave")}</button>
          {message && <span className={message.ok ? "ops-ok" : "ops-field-error"} role="status" data-testid="sms-save-message">{message.text}</span>}
          {!message && stored.updated_at && <span className="muted small-text">{t("opsSavedAt", { when: when(stored.updated_at, lang), by: stored.updated_by ?? "" })}</span>}
        </div>
      </form>

      <div className="card ops-form" data-testid="sms-test">
        <h3>{t("smsTestTitle")}</h3>
        <p className="muted small-text">{t("smsTestHelp")}</p>
        <div className="ops-inline">
          <label>
            {t("smsTestTo")}
            <input name="sms_test_to" type="tel" value={testTo} onChange={(e) => setTestTo(e.target.value)} />
          </label>
          <button onClick={sendTest} disabled={testing || !stored.configured || !testTo.trim()}>{testing ? t("opsTestSending") : t("smsTestSend")}</button>
        </div>
        {testError && <div className="error-box" role="alert" data-testid="sms-test-error">{testError}</div>}
        {test && (
          <div className={`ops-result ${test.ok ? "ok" : "bad"}`} role="status" data-testid="sms-test-result" data-ok={test.ok}>
            <div>{test.ok ? t("smsTestOk", { to: test.to }) : t("smsTestFailed", { to: test.to })}</div>
            <div className="small-text">{t("smsProviderAnswer", { provider: test.provider })}</div>
            <code className="ops-error-text">{test.detail}</code>
          </div>
        )}
      </div>
    </div>
  );
}
