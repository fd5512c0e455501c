import { describe, expect, it } from "vitest";
import { dayText, rhythmText, weekdayName } from "../src/operations/schedule";
import { fieldOfPath, formOf, toInput } from "../src/operations/emailForm";
import { textsToSave } from "../src/operations/TemplateLibrary";
import type { EmailSettings } from "../src/types";
import { when } from "../src/util";

describe("a schedule as people read it (D1)", () => {
  it("shows a run at the hour of the office's time zone, whatever the browser's, and names it", () => {
    // Tuesday 8 December 2026 15:00 UTC is D6's 16:00 in Berlin (winter time).
    const berlin = when("2026-12-08T15:00:00Z", "de", "Europe/Berlin");
    expect(berlin).toContain("16:00");
    expect(berlin).toMatch(/MEZ|CET|GMT\+1/);
    expect(when("2026-07-07T14:00:00Z", "en", "Europe/Amsterdam")).toContain("4:00 PM");  // summer time
    expect(when("2026-12-08T15:00:00Z", "nl", "America/New_York")).toContain("10:00");
    expect(when("2026-12-08T15:00:00Z", "en", "Not/AZone")).not.toBe("");  // an unknown zone falls back
  });

  it("says the interval in each language, singular and plural", () => {
    expect(rhythmText({ every: "week", interval: 2 }, "en")).toBe("Every 2 weeks");
    expect(rhythmText({ every: "week", interval: 2 }, "de")).toBe("Alle 2 Wochen");
    expect(rhythmText({ every: "week", interval: 1 }, "nl")).toBe("Wekelijks");
    expect(rhythmText({ every: "day", interval: 1 }, "de")).toBe("Täglich");
    expect(rhythmText({ every: "month", interval: 3 }, "nl")).toBe("Elke 3 maanden");
  });

  it("names the weekday in the user's language, and the day of a monthly run", () => {
    expect(weekdayName("tuesday", "en")).toBe("Tuesday");
    expect(weekdayName("tuesday", "de")).toBe("Dienstag");
    expect(weekdayName("friday", "nl")).toBe("vrijdag");
    expect(dayText({ weekday: null, day_of_month: 1 }, "de")).toBe("1. Tag des Monats");
    expect(dayText({ weekday: null, day_of_month: null }, "en")).toBe("—");
  });
});

const STORED: EmailSettings = {
  configured: true,
  host: "smtp.acme.example",
  port: 587,
  security: "starttls",
  username: "mailer",
  password_set: true,
  sender_address: "office@acme.example",
  sender_name: "Acme",
  reply_to: null,
  default_language: "nl",
};

describe("the email settings form", () => {
  it("keeps the stored password by leaving it out, and removes it only when asked", () => {
    const kept = toInput(formOf(STORED), true);
    expect(kept.errors).toEqual({});
    expect(kept.body).not.toHaveProperty("password");
    expect(kept.body).toMatchObject({ host: "smtp.acme.example", port: 587, username: "mailer", reply_to: null });

    const changed = toInput({ ...formOf(STORED), password: "n3w-secret" }, true);
    expect(changed.body?.password).toBe("n3w-secret");

    const noLogin = toInput({ ...formOf(STORED), username: "", removePassword: true }, true);
    expect(noLogin.body?.password).toBe("");
    expect(noLogin.body?.username).toBeNull();
  });

  it("names the field to fix and sends nothing", () => {
    const bad = toInput({ ...formOf(STORED), host: " ", port: "70000", sender_address: "office", reply_to: "x@" }, true);
    expect(bad.body).toBeUndefined();
    expect(bad.errors).toEqual({ host: "opsRequired", port: "opsBadPort", sender_address: "opsBadAddress", reply_to: "opsBadAddress" });
    // A user name without any password, and a password without a user name.
    expect(toInput({ ...formOf(STORED), removePassword: true }, true).errors).toEqual({ password: "opsLoginPair" });
    expect(toInput({ ...formOf({ ...STORED, username: null, password_set: false }), password: "x" }, false).errors).toEqual({
      username: "opsLoginPair",
    });
  });

  it("places the server's problems on their fields", () => {
    expect(fieldOfPath("$.sender_address")).toBe("sender_address");
    expect(fieldOfPath("$.host")).toBe("host");
    expect(fieldOfPath("$.texts.de")).toBeNull();
    expect(fieldOfPath(undefined)).toBeNull();
  });
});

describe("a template's texts to store", () => {
  it("keeps a language with a subject line and a message, leaves empty ones out, names half ones", () => {
    const { texts, half } = textsToSave({
      nl: { subject: "Herinnering", html: "<p>Beste {{ subject.name }}</p>", text: "" },
      de: { subject: "Erinnerung", html: "  " },
      en: { subject: "", html: "" },
    });
    expect(texts).toEqual({ nl: { subject: "Herinnering", html: "<p>Beste {{ subject.name }}</p>" } });
    expect(half).toEqual(["de"]);
  });
});
