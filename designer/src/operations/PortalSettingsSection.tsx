// What debtors may do on the portal and the bounds of arrangements accepted without a person (M5, M6).
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { useT, type TextKey } from "../i18n";
import type { Lang, PortalReaction, PortalSettings } from "../types";
import { when } from "../util";

const REACTIONS: { value: PortalReaction; text: TextKey }[] = [
  { value: "copy", text: "opsReactCopy" },
  { value: "paid", text: "opsReactPaid" },
  { value: "arrangement", text: "opsReactArrangement" },
  { value: "promise", text: "opsReactPromise" },
];
type NumberField = "max_instalments" | "max_term_days" | "promise_grace_days" | "link_days";
// The server's bounds (procedo/portal/settings.py), checked here too so a mistake is named at once.
const NUMBERS: { field: NumberField; text: TextKey; min: number; max: number; help?: TextKey }[] = [
  { field: "max_instalments", text: "opsMaxInstalments", min: 1, max: 60 },
  { field: "max_term_days", text: "opsMaxTerm", min: 1, max: 1830 },
  { field: "promise_grace_days", text: "opsGraceDays", min: 0, max: 60, help: "opsGraceHelp" },
  { field: "link_days", text: "opsLinkDays", min: 1, max: 366 },
];
const LANGS: { lang: Lang; text: TextKey }[] = [
  { lang: "nl", text: "opsLangNl" },
  { lang: "de", text: "opsLangDe" },
  { lang: "en", text: "opsLangEn" },
];

type Draft = Omit<PortalSettings, NumberField> & Record<NumberField, string>;

export function PortalSettingsSection() {
  const { t, lang } = useT();
  const [stored, setStored] = useState<PortalSettings | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const adopt = (s: PortalSettings) => {
    setStored(s);
    setDraft({ ...s, max_instalments: String(s.max_instalments), max_term_days: String(s.max_term_days), promise_grace_days: String(s.promise_grace_days), link_days: String(s.link_days) });
  };
  useEffect(() => {
    api.portalSettings().then(adopt, (e) => setMessage({ ok: false, text: e instanceof ApiError ? e.detail : String(e) }));
  }, []);

  if (!draft || !stored) return message ? <div className="error-box">{message.text}</div> : <div className="muted">{t("loading")}</div>;

  const change = (patch: Partial<Draft>) => { setDraft({ ...draft, ...patch }); setMessage(null); };
  const setText = (l: Lang, key: "intro" | "new_link", value: string) =>
    change({ texts: { ...draft.texts, [l]: { ...(draft.texts[l] ?? {}), [key]: value } } });

  async function save(e: React.FormEvent) {
    e.preventDefault();
    if (!draft) return;
    const found: Record<string, string> = {};
    const numbers = {} as Record<NumberField, number>;
    for (const n of NUMBERS) {
      const value = Number(draft[n.field]);
      if (!/^\d+$/.test(draft[n.field].trim()) || value < n.min || value > n.max) found[n.field] = t("opsBetween", { min: n.min, max: n.max });
      numbers[n.field] = value;
    }
    const amount = draft.min_instalment_amount.trim().replace(",", ".");
    if (!/^\d{1,12}(\.\d{1,2})?$/.test(amount)) found.min_instalment_amount = t("opsBadAmount");
    setErrors(found);
    if (Object.keys(found).length) { setMessage({ ok: false, text: t("opsFixFields") }); return; }
    // Only the fields the server takes: empty texts are left out (the portal's own words then).
    const texts: PortalSettings["texts"] = {};
    for (const { lang: l } of LANGS) {
      const own = draft.texts[l] ?? {};
      const kept = Object.fromEntries(Object.entries(own).filter(([, v]) => v && v.trim()));
      if (Object.keys(kept).length) texts[l] = kept;
    }
    const body: PortalSettings = { reactions: draft.reactions, min_instalment_amount: amount, broken_promise: draft.broken_promise ?? "task", texts, ...numbers };
    try {
      adopt(await api.savePortalSettings(body));
      setMessage({ ok: true, text: t("opsSavedNow") });
    } catch (err) {
      if (err instanceof ApiError) {
        const placed: Record<string, string> = {};
        for (const p of err.problems) if (p.path) placed[p.path.replace(/^\$\./, "").split(".")[0]!] = p.message;
        setErrors(placed);
        setMessage({ ok: false, text: err.detail });
      } else setMessage({ ok: false, text: String(err) });
    }
  }

  const fieldError = (key: string) => (errors[key] ? <span className="ops-field-error" role="alert" data-field-error={key}>{errors[key]}</span> : null);
  return (
    <form className="ops-section" data-testid="portal-settings" onSubmit={save} noValidate>
      <p className="muted ops-help">{t("opsPortalHelp")}</p>
      <div className="card ops-form">
        <h3>{t("opsReactions")}</h3>
        {REACTIONS.map((r) => (
          <label key={r.value} className="ops-check">
            <input
              type="checkbox"
              name={`reaction-${r.value}`}
              checked={draft.reactions.includes(r.value)}
              onChange={(e) => change({ reactions: e.target.checked ? [...draft.reactions, r.value] : draft.reactions.filter((x) => x !== r.value) })}
            />
            {t(r.text)}
          </label>
        ))}
      </div>
      <div className="card ops-form">
        <h3>{t("opsArrangementBounds")}</h3>
        <p className="muted small-text">{t("opsArrangementHelp")}</p>
        <div className="ops-grid">
          {NUMBERS.map((n) => (
            <label key={n.field}>
              {t(n.text)}
              <input name={n.field} inputMode="numeric" value={draft[n.field]} onChange={(e) => change({ [n.field]: e.target.value } as Partial<Draft>)} aria-invalid={!!errors[n.field]} />
              <span className="ops-field-help">{n.help ? `${t(n.help)} ` : ""}{t("opsBetween", { min: n.min, max: n.max })}</span>
              {fieldError(n.field)}
            </label>
          ))}
          <label>
            {t("opsMinInstalment")}
            <input name="min_instalment_amount" inputMode="decimal" value={draft.min_instalment_amount} onChange={(e) => change({ min_instalment_amount: e.target.value })} aria-invalid={!!errors.min_instalment_amount} />
            {fieldError("min_instalment_amount")}
          </label>
          <label>
            {t("pfBrokenPromise")}
            <select name="broken_promise" value={draft.broken_promise ?? "task"} onChange={(e) => change({ broken_promise: e.target.value as "task" | "continue" })}>
              <option value="task">{t("pfBrokenTask")}</option>
              <option value="continue">{t("pfBrokenContinue")}</option>
            </select>
            <span className="ops-field-help">{t("pfBrokenHelp")}</span>
          </label>
        </div>
      </div>
      <div className="card ops-form">
        <h3>{t("opsPortalTexts")}</h3>
        <p className="muted small-text">{t("opsPortalTextsHelp")}</p>
        {LANGS.map(({ lang: l, text }) => (
          <fieldset key={l} className="ops-lang-texts">
            <legend>{t(text)}</legend>
            <label>
              {t("opsIntro")}
              <textarea rows={2} maxLength={2000} value={draft.texts[l]?.intro ?? ""} onChange={(e) => setText(l, "intro", e.target.value)} />
            </label>
            <label>
              {t("opsNewLink")}
              <textarea rows={2} maxLength={2000} value={draft.texts[l]?.new_link ?? ""} onChange={(e) => setText(l, "new_link", e.target.value)} />
            </label>
          </fieldset>
        ))}
      </div>
      <div className="ops-form-actions">
        <button className="primary" type="submit">{t("opsSave")}</button>
        {message && <span className={message.ok ? "ops-ok" : "ops-field-error"} role="status" data-testid="portal-save-message">{message.text}</span>}
        {!message && stored.updated_at && <span className="muted small-text">{t("opsSavedAt", { when: when(stored.updated_at, lang), by: stored.updated_by ?? "" })}</span>}
      </div>
    </form>
  );
}
