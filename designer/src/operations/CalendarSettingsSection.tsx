// The office calendar (administrators): time zone, country and the office's own closing days,
// which working days skip besides weekends and the country's public holidays (shown read-only).
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { useT, type TextKey } from "../i18n";
import type { CalendarSettings } from "../types";
import {
  alreadyOff,
  changed,
  dayText,
  formOf,
  MAX_CLOSING_DAYS,
  MAX_NAME,
  newRow,
  placeOfPath,
  timeIn,
  toInput,
  zoneGroups,
  type CalendarErrors,
  type CalendarForm,
  type ClosingRow,
} from "./calendarForm";

// A field's message: one of ours (shown in the UI's language) or the server's own words.
type Said = { key: TextKey } | { text: string };
interface Shown {
  timezone?: Said;
  country?: Said;
  closing_days?: Said;
  rows: Record<number, { date?: Said; name?: Said }>;
}
const NOTHING: Shown = { rows: {} };

function shownOf(errors: CalendarErrors): Shown {
  const said = (key: TextKey | undefined): Said | undefined => (key ? { key } : undefined);
  const rows: Shown["rows"] = {};
  for (const [key, e] of Object.entries(errors.rows)) rows[Number(key)] = { date: said(e.date), name: said(e.name) };
  return { timezone: said(errors.timezone), country: said(errors.country), closing_days: said(errors.closing_days), rows };
}

export function CalendarSettingsSection() {
  const { t, lang } = useT();
  const [stored, setStored] = useState<CalendarSettings | null>(null);
  const [form, setForm] = useState<CalendarForm | null>(null);
  const [shown, setShown] = useState<Shown>(NOTHING);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [added, setAdded] = useState<number | null>(null);

  // Countries and holidays are named in the UI's language: asked again when it changes (the form stays).
  useEffect(() => {
    let live = true;
    api.calendarSettings(lang).then(
      (s) => { if (live) { setStored(s); setForm((f) => f ?? formOf(s)); } },
      (e) => { if (live) setMessage({ ok: false, text: e instanceof ApiError ? e.detail : String(e) }); },
    );
    return () => { live = false; };
  }, [lang]);

  if (!form || !stored) return message ? <div className="error-box">{message.text}</div> : <div className="muted">{t("loading")}</div>;

  const edit = (next: CalendarForm, clear: (s: Shown) => Shown) => {
    setForm(next);
    setShown(clear);
    setMessage(null);
  };
  const setRow = (key: number, patch: Partial<ClosingRow>) =>
    edit({ ...form, rows: form.rows.map((r) => (r.key === key ? { ...r, ...patch } : r)) }, (s) => ({ ...s, closing_days: undefined, rows: { ...s.rows, [key]: {} } }));
  const addRow = () => {
    const row = newRow();
    setAdded(row.key);
    edit({ ...form, rows: [...form.rows, row] }, (s) => s);
  };
  const removeRow = (key: number) =>
    edit({ ...form, rows: form.rows.filter((r) => r.key !== key) }, (s) => ({ ...s, closing_days: undefined, rows: { ...s.rows, [key]: {} } }));

  async function save(e: React.FormEvent) {
    e.preventDefault();
    if (!form || !stored) return;
    const checked = toInput(form, stored);
    setShown(shownOf(checked.errors));
    if (!checked.body) { setMessage({ ok: false, text: t("opsFixFields") }); return; }
    setSaving(true);
    try {
      const saved = await api.saveCalendarSettings(checked.body, lang);
      setStored(saved);
      setForm(formOf(saved));
      setAdded(null);
      setMessage({ ok: true, text: t("calSaved") });
    } catch (err) {
      if (err instanceof ApiError) {
        const placed: Shown = { rows: {} };
        let any = false;
        for (const p of err.problems) {
          const place = placeOfPath(p.path, checked.keys);
          if (!place) continue;
          any = true;
          if (place.field === "row") placed.rows[place.key] = { ...placed.rows[place.key], [place.part]: { text: p.message } };
          else placed[place.field] = { text: p.message };
        }
        setShown(placed);
        setMessage({ ok: false, text: any ? t("opsFixFields") : err.detail });
      } else setMessage({ ok: false, text: String(err) });
    } finally {
      setSaving(false);
    }
  }

  const words = (said: Said | undefined) => (said ? ("key" in said ? t(said.key, { max: MAX_CLOSING_DAYS, length: MAX_NAME }) : said.text) : "");
  const fieldError = (said: Said | undefined, name: string) =>
    said ? <span className="ops-field-error" role="alert" data-field-error={name}>{words(said)}</span> : null;
  const zones = stored.timezones.includes(form.timezone) ? stored.timezones : [form.timezone, ...stored.timezones];
  const countries = stored.countries.some((c) => c.code === form.country) ? stored.countries : [{ code: form.country, name: form.country }, ...stored.countries];
  const countryName = stored.countries.find((c) => c.code === stored.country)?.name ?? stored.country;
  const now = timeIn(form.timezone, lang);
  const isChanged = changed(form, stored);

  return (
    <form className="ops-section" data-testid="calendar-settings" onSubmit={save} noValidate>
      <p className="muted ops-help" data-testid="calendar-help">{t("calHelp")}</p>
      <div className="card ops-form">
        <div className="ops-grid">
          <label>
            {t("calTimezone")}
            <select name="timezone" value={form.timezone} onChange={(e) => edit({ ...form, timezone: e.target.value }, (s) => ({ ...s, timezone: undefined }))} aria-invalid={!!shown.timezone}>
              {zoneGroups(zones).map(([region, names]) =>
                region ? (
                  <optgroup key={region} label={region}>
                    {names.map((z) => <option key={z} value={z}>{z}</option>)}
                  </optgroup>
                ) : (
                  names.map((z) => <option key={z} value={z}>{z}</option>)
                ),
              )}
            </select>
            {now && <span className="ops-field-help" data-testid="calendar-time-there">{t("calTimezoneNow", { time: now })}</span>}
            {fieldError(shown.timezone, "timezone")}
          </label>
          <label>
            {t("calCountry")}
            <select name="country" value={form.country} onChange={(e) => edit({ ...form, country: e.target.value }, (s) => ({ ...s, country: undefined }))} aria-invalid={!!shown.country}>
              {countries.map((c) => <option key={c.code} value={c.code}>{c.name}</option>)}
            </select>
            <span className="ops-field-help">{t("calCountryHelp")}</span>
            {fieldError(shown.country, "country")}
          </label>
        </div>
      </div>

      <div className="card ops-form" data-testid="closing-days">
        <h3>{t("calClosingDays")}</h3>
        <p className="muted small-text">{t("calClosingHelp")}</p>
        {form.rows.length === 0 ? (
          <p className="muted" data-testid="no-closing-days">{t("calNoClosingDays")}</p>
        ) : (
          <div className="cal-days" role="list">
            <div className="cal-days-head" aria-hidden="true">
              <span>{t("calDate")}</span>
              <span>{t("calName")}</span>
            </div>
            {form.rows.map((row, index) => {
              const errors = shown.rows[row.key] ?? {};
              const off = alreadyOff(row.date, stored.public_holidays);
              return (
                <div key={row.key} className="cal-day" role="listitem" data-testid="closing-day" data-row={index}>
                  <div>
                    <input
                      type="date"
                      name={`closing_date_${index}`}
                      value={row.date}
                      min="2000-01-01"
                      max="2100-12-31"
                      aria-label={t("calDate")}
                      aria-invalid={!!errors.date}
                      autoFocus={row.key === added}
                      onChange={(e) => setRow(row.key, { date: e.target.value })}
                    />
                    {row.date && !errors.date && <span className="ops-field-help">{dayText(row.date, lang)}</span>}
                    {off && !errors.date && <span className="ops-field-help">{t(off === "weekend" ? "calOnWeekend" : "calOnHoliday")}</span>}
                    {fieldError(errors.date, `closing_days.${index}.date`)}
                  </div>
                  <div>
                    <input
                      name={`closing_name_${index}`}
                      value={row.name}
                      maxLength={MAX_NAME}
                      placeholder={t("calNamePlaceholder")}
                      aria-label={t("calName")}
                      aria-invalid={!!errors.name}
                      onChange={(e) => setRow(row.key, { name: e.target.value })}
                    />
                    {fieldError(errors.name, `closing_days.${index}.name`)}
                  </div>
                  <button type="button" className="small danger" aria-label={t("calRemoveLabel", { date: row.date ? dayText(row.date, lang) : "" })} onClick={() => removeRow(row.key)}>
                    {t("calRemove")}
                  </button>
                </div>
              );
            })}
          </div>
        )}
        {fieldError(shown.closing_days, "closing_days")}
        <div>
          <button type="button" onClick={addRow} disabled={form.rows.length >= MAX_CLOSING_DAYS}>+ {t("calAddDay")}</button>
        </div>
      </div>

      <div className="ops-form-actions">
        <button className="primary" type="submit" disabled={saving || !isChanged}>{saving ? t("opsSaving") : t("opsSave")}</button>
        {message && <span className={message.ok ? "ops-ok" : "ops-field-error"} role="status" data-testid="calendar-save-message">{message.text}</span>}
      </div>

      <div className="card ops-form" data-testid="public-holidays">
        <h3>{t("calHolidays", { country: countryName })}</h3>
        {form.country !== stored.country && <p className="ops-warn small-text">{t("calCountryChanged")}</p>}
        {stored.public_holidays.length === 0 ? (
          <p className="muted">{t("calNoHolidays")}</p>
        ) : (
          <ul className="plain-list cal-holidays" aria-label={t("calHoliday")}>
            {stored.public_holidays.map((h) => (
              <li key={`${h.date} ${h.name}`} data-date={h.date}>
                <span className="cal-holiday-date">{dayText(h.date, lang)}</span>
                <span>{h.name}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </form>
  );
}
