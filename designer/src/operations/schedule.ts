// How a schedule reads for a person (D1): "Every 2 weeks", "Tuesday", "16:00".
import { translate, type TextKey } from "../i18n";
import type { Lang, Schedule } from "../types";

const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

const RHYTHM: Record<string, [TextKey, TextKey]> = {
  day: ["opsEveryDay", "opsEveryNDays"],
  week: ["opsEveryWeek", "opsEveryNWeeks"],
  month: ["opsEveryMonth", "opsEveryNMonths"],
  quarter: ["opsEveryQuarter", "opsEveryNQuarters"],
  year: ["opsEveryYear", "opsEveryNYears"],
};

export function rhythmText(s: Pick<Schedule, "every" | "interval">, lang: Lang): string {
  const keys = RHYTHM[s.every];
  if (!keys) return s.every;
  return s.interval > 1 ? translate(lang, keys[1], { n: s.interval }) : translate(lang, keys[0]);
}

/** The weekday in the user's language (from the calendar, not a word list): 2024-01-01 was a Monday. */
export function weekdayName(weekday: string, lang: Lang): string {
  const index = WEEKDAYS.indexOf(weekday.toLowerCase());
  if (index < 0) return weekday;
  return new Date(Date.UTC(2024, 0, 1 + index, 12)).toLocaleDateString(lang, { weekday: "long", timeZone: "UTC" });
}

/** The day a schedule runs on: its weekday, its day of the month, or nothing (daily). */
export function dayText(s: Pick<Schedule, "weekday" | "day_of_month">, lang: Lang): string {
  if (s.weekday) return weekdayName(s.weekday, lang);
  if (s.day_of_month) return translate(lang, "opsDayOfMonth", { n: s.day_of_month });
  return "—";
}
