import { describe, expect, it } from "vitest";
import {
  alreadyOff,
  changed,
  closingDaysOf,
  dayText,
  formOf,
  isDay,
  newRow,
  placeOfPath,
  timeIn,
  toInput,
  zoneGroups,
  type CalendarForm,
} from "../src/operations/calendarForm";
import { translate } from "../src/i18n";
import { calendarTexts } from "../src/texts/calendar";
import type { CalendarSettings } from "../src/types";

const STORED: CalendarSettings = {
  timezone: "Europe/Amsterdam",
  country: "NL",
  closing_days: [
    { date: "2026-12-28", name: "Kerstsluiting" },
    { date: "2026-12-29", name: "" },
  ],
  public_holidays: [{ date: "2026-12-25", name: "Eerste kerstdag" }],
  countries: [{ code: "BE", name: "België" }, { code: "DE", name: "Duitsland" }, { code: "NL", name: "Nederland" }],
  timezones: ["Europe/Amsterdam", "Europe/Berlin", "UTC"],
};

function form(rows: [string, string][], patch: Partial<CalendarForm> = {}): CalendarForm {
  return { timezone: "Europe/Amsterdam", country: "NL", rows: rows.map(([d, n]) => newRow(d, n)), ...patch };
}

describe("the office calendar form", () => {
  it("sends the closing days sorted by date, names trimmed, rows left empty out", () => {
    const typed = form([["2026-12-31", " Oudjaar "], ["", ""], ["2026-12-28", "Kerstsluiting"], ["2026-12-30", ""]]);
    const { body, keys, errors } = toInput(typed, STORED);
    expect(errors.rows).toEqual({});
    expect(body).toEqual({
      timezone: "Europe/Amsterdam",
      country: "NL",
      closing_days: [
        { date: "2026-12-28", name: "Kerstsluiting" },
        { date: "2026-12-30", name: "" },
        { date: "2026-12-31", name: "Oudjaar" },
      ],
    });
    // closing_days[i] of the body is this row of the form, to place the server's problems.
    expect(keys).toEqual([typed.rows[2]!.key, typed.rows[3]!.key, typed.rows[0]!.key]);
  });

  it("names each wrong row and field, and sends nothing then", () => {
    const typed = form(
      [["2026-12-28", "a"], ["", "Brugdag"], ["2026-02-30", ""], ["1999-12-31", ""], ["2026-12-28", "b"], ["2026-12-24", "x".repeat(101)]],
      { timezone: "Mars/Olympus", country: "XX" },
    );
    const { body, errors } = toInput(typed, STORED);
    expect(body).toBeUndefined();
    expect(errors.timezone).toBe("calBadTimezone");
    expect(errors.country).toBe("calBadCountry");
    const [first, noDate, notADay, tooEarly, twice, longName] = typed.rows.map((r) => errors.rows[r.key]);
    expect(first).toBeUndefined();
    expect(noDate).toEqual({ date: "calNeedDate" });
    expect(notADay).toEqual({ date: "calBadDate" });
    expect(tooEarly).toEqual({ date: "calDateRange" });
    expect(twice).toEqual({ date: "calDateTwice" });
    expect(longName).toEqual({ name: "calNameTooLong" });
  });

  it("refuses more than 400 closing days, and takes a lower-case country", () => {
    const many = Array.from({ length: 401 }, (_, i): [string, string] => [new Date(Date.UTC(2030, 0, 1 + i)).toISOString().slice(0, 10), ""]);
    expect(toInput(form(many), STORED).errors.closing_days).toBe("calTooMany");
    expect(toInput(form(many.slice(0, 400)), STORED).body?.closing_days).toHaveLength(400);
    expect(toInput(form([], { country: "de" }), STORED).body?.country).toBe("DE");
  });

  it("sees a change only where saving would store something else", () => {
    const same = formOf(STORED);
    expect(changed(same, STORED)).toBe(false);
    // The same days in another order, an empty added row, a name with spaces around it: no change.
    const reordered = form([["2026-12-29", ""], ["", ""], ["2026-12-28", " Kerstsluiting "]]);
    expect(changed(reordered, STORED)).toBe(false);
    expect(changed({ ...same, timezone: "Europe/Berlin" }, STORED)).toBe(true);
    expect(changed({ ...same, country: "DE" }, STORED)).toBe(true);
    expect(changed(form([["2026-12-28", "Kerstsluiting"]]), STORED)).toBe(true);
    expect(changed(form([["2026-12-28", "Kerstsluiting"], ["2026-12-29", "Brugdag"]]), STORED)).toBe(true);
    expect(changed(form([["2026-12-28", "Kerstsluiting"], ["2026-12-29", ""], ["", "nog geen datum"]]), STORED)).toBe(true);
    expect(closingDaysOf(reordered.rows).map((d) => d.date)).toEqual(["2026-12-28", "2026-12-29"]);
  });

  it("places the server's problem on the row it names, counted in the sorted body", () => {
    const keys = [7, 3, 9];
    expect(placeOfPath("$.closing_days[1].date", keys)).toEqual({ field: "row", key: 3, part: "date" });
    expect(placeOfPath("$.closing_days[2].name", keys)).toEqual({ field: "row", key: 9, part: "name" });
    expect(placeOfPath("$.closing_days[5].date", keys)).toEqual({ field: "closing_days" });
    expect(placeOfPath("$.closing_days", keys)).toEqual({ field: "closing_days" });
    expect(placeOfPath("$.timezone", keys)).toEqual({ field: "timezone" });
    expect(placeOfPath("$.country", keys)).toEqual({ field: "country" });
    expect(placeOfPath("$", keys)).toBeNull();
    expect(placeOfPath(null, keys)).toBeNull();
  });

  it("reads days in the UI's language with their weekday, and knows a day already off", () => {
    expect(isDay("2028-02-29")).toBe(true);
    expect(isDay("2026-02-29")).toBe(false);
    expect(isDay("28-12-2026")).toBe(false);
    expect(dayText("2026-12-25", "de")).toMatch(/^Fr\.?, 25\. Dez\.? 2026$/);
    expect(dayText("2026-12-25", "nl")).toMatch(/^vr.*25 dec.* 2026$/);
    expect(dayText("2026-12-25", "en")).toMatch(/Fri.*Dec 25.*2026/);
    expect(alreadyOff("2026-12-26", [])).toBe("weekend"); // a Saturday
    expect(alreadyOff("2026-12-25", STORED.public_holidays)).toBe("holiday");
    expect(alreadyOff("2026-12-28", STORED.public_holidays)).toBeNull();
    expect(alreadyOff("", [])).toBeNull();
  });

  it("tells the time in the zone chosen, and groups the zones by region", () => {
    const at = new Date("2026-12-08T15:00:00Z");
    expect(timeIn("Europe/Berlin", "de", at)).toBe("16:00");
    expect(timeIn("Not/AZone", "de", at)).toBe("");
    expect(zoneGroups(["Africa/Abidjan", "Europe/Amsterdam", "Europe/Berlin", "UTC"])).toEqual([
      ["Africa", ["Africa/Abidjan"]],
      ["Europe", ["Europe/Amsterdam", "Europe/Berlin"]],
      ["", ["UTC"]],
    ]);
  });

  it("says the section in Dutch and German, not in English", () => {
    for (const [key, [en, nl, de]] of Object.entries(calendarTexts)) {
      expect(nl, key).not.toBe("");
      expect(de, key).not.toBe("");
      expect([nl, de], key).not.toContain(en);
    }
    expect(translate("de", "calClosingDays")).toBe("Schließtage");
    expect(translate("nl", "calTimezone")).toBe("Tijdzone");
    expect(translate("de", "calTooMany", { max: 400 })).toBe("Höchstens 400 Schließtage.");
  });
});
