// The office calendar form: what an administrator typed -> the API's body (closing days sorted
// by date), or the fields to fix; whether anything changed; where a server problem belongs.
import type { TextKey } from "../i18n";
import type { CalendarSettings, CalendarSettingsInput, Lang } from "../types";

// The server's bounds (procedo/office_calendar.py), checked here too so a mistake is named at once.
export const MAX_CLOSING_DAYS = 400;
export const MAX_NAME = 100;
const FIRST_YEAR = 2000;
const LAST_YEAR = 2100;

/** One closing day as typed; `key` keeps a row's identity while dates are edited and sorted. */
export interface ClosingRow {
  key: number;
  date: string; // YYYY-MM-DD as <input type=date> gives it; "" while empty or incomplete
  name: string;
}

export interface CalendarForm {
  timezone: string;
  country: string;
  rows: ClosingRow[];
}

export interface CalendarErrors {
  timezone?: TextKey;
  country?: TextKey;
  closing_days?: TextKey;
  rows: Record<number, { date?: TextKey; name?: TextKey }>;
}

let nextKey = 1;
export function newRow(date = "", name = ""): ClosingRow {
  return { key: nextKey++, date, name };
}

export function formOf(s: Pick<CalendarSettings, "timezone" | "country" | "closing_days">): CalendarForm {
  return { timezone: s.timezone, country: s.country, rows: s.closing_days.map((d) => newRow(d.date, d.name)) };
}

/** A row nobody filled in (an added row left empty): not sent, not a change. */
function blank(row: ClosingRow): boolean {
  return !row.date && !row.name.trim();
}

/** The closing days as they would be stored: blank rows left out, names trimmed, by date. */
export function closingDaysOf(rows: ClosingRow[]): { date: string; name: string }[] {
  return rows
    .filter((r) => !blank(r))
    .map((r) => ({ date: r.date, name: r.name.trim() }))
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** Whether saving would change what is stored (the Save button is off while not). */
export function changed(form: CalendarForm, stored: Pick<CalendarSettings, "timezone" | "country" | "closing_days">): boolean {
  if (form.timezone !== stored.timezone || form.country.toUpperCase() !== stored.country.toUpperCase()) return true;
  const now = closingDaysOf(form.rows);
  const before = closingDaysOf(stored.closing_days.map((d) => ({ key: 0, date: d.date, name: d.name })));
  return now.length !== before.length || now.some((d, i) => d.date !== before[i]!.date || d.name !== before[i]!.name);
}

/** A real calendar day written YYYY-MM-DD ("2026-02-30" is not). */
export function isDay(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/**
 * The body to PUT, or the errors per field (nothing is sent while there are any).
 * `keys[i]` is the row of the body's closing_days[i], to place the server's problems.
 */
export function toInput(
  form: CalendarForm,
  known: { timezones: string[]; countries: { code: string }[] },
): { body?: CalendarSettingsInput; keys: number[]; errors: CalendarErrors } {
  const errors: CalendarErrors = { rows: {} };
  if (!known.timezones.includes(form.timezone)) errors.timezone = "calBadTimezone";
  const country = form.country.trim().toUpperCase();
  if (!known.countries.some((c) => c.code === country)) errors.country = "calBadCountry";
  const kept = form.rows.filter((r) => !blank(r));
  if (kept.length > MAX_CLOSING_DAYS) errors.closing_days = "calTooMany";
  const seen = new Set<string>();
  for (const row of kept) {
    const found: { date?: TextKey; name?: TextKey } = {};
    if (!row.date) found.date = "calNeedDate";
    else if (!isDay(row.date)) found.date = "calBadDate";
    else if (Number(row.date.slice(0, 4)) < FIRST_YEAR || Number(row.date.slice(0, 4)) > LAST_YEAR) found.date = "calDateRange";
    else if (seen.has(row.date)) found.date = "calDateTwice";
    if (row.date) seen.add(row.date);
    if (row.name.trim().length > MAX_NAME) found.name = "calNameTooLong";
    if (found.date || found.name) errors.rows[row.key] = found;
  }
  if (errors.timezone || errors.country || errors.closing_days || Object.keys(errors.rows).length) return { keys: [], errors };
  const sorted = [...kept].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return {
    body: { timezone: form.timezone, country, closing_days: sorted.map((r) => ({ date: r.date, name: r.name.trim() })) },
    keys: sorted.map((r) => r.key),
    errors,
  };
}

export type ProblemPlace =
  | { field: "timezone" | "country" | "closing_days" }
  | { field: "row"; key: number; part: "date" | "name" };

/** A server problem's path ("$.closing_days[1].date") -> the field or row it names, or null. */
export function placeOfPath(path: string | null | undefined, keys: number[]): ProblemPlace | null {
  const name = (path ?? "").replace(/^\$\.?/, "");
  if (name === "timezone" || name === "country") return { field: name };
  const row = /^closing_days\[(\d+)\](?:\.(date|name))?$/.exec(name);
  if (row) {
    const key = keys[Number(row[1])];
    if (key === undefined) return { field: "closing_days" };
    return { field: "row", key, part: row[2] === "name" ? "name" : "date" };
  }
  if (name === "closing_days") return { field: "closing_days" };
  return null;
}

/** A day (YYYY-MM-DD) in the UI's language with its weekday: "Fr., 25. Dez. 2026". */
export function dayText(iso: string, lang: Lang): string {
  if (!isDay(iso)) return iso;
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(lang, { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

/** The time now in a zone ("14:05"), to check the zone chosen; "" for a zone the browser lacks. */
export function timeIn(timeZone: string, lang: Lang, now: Date = new Date()): string {
  try {
    return now.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", timeZone });
  } catch {
    return "";
  }
}

/** The zones grouped by their region ("Europe/Amsterdam" under Europe), for the select. */
export function zoneGroups(zones: string[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const zone of zones) {
    const region = zone.includes("/") ? zone.slice(0, zone.indexOf("/")) : "";
    const group = groups.get(region);
    if (group) group.push(zone);
    else groups.set(region, [zone]);
  }
  return [...groups.entries()];
}

/** Why a closing day is no working day anyway (a weekend, a listed public holiday), or null. */
export function alreadyOff(date: string, holidays: { date: string }[]): "weekend" | "holiday" | null {
  if (!isDay(date)) return null;
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  if (weekday === 0 || weekday === 6) return "weekend";
  return holidays.some((h) => h.date === date) ? "holiday" : null;
}
