import { describe, expect, it } from "vitest";
import { byLabel, holdingsFor, roleLabel, subjectsWithOwnMembers } from "../src/admin/roles";
import { accessKey, userError } from "../src/admin/users";
import { ApiError } from "../src/api";
import { translate } from "../src/i18n";
import type { AdminRole, RoleMember, SubjectRef } from "../src/types";

const FISCAAL = { nl: "Fiscaal medewerker", de: "Steuerberater", en: "Tax adviser" };
const client = (key: string, name = ""): SubjectRef => ({ id: `id-${key}`, type: "client", key, name });
const member = (email: string, subject: SubjectRef | null = null, active = true): RoleMember => ({
  email,
  name: "",
  subject_id: subject?.id ?? null,
  subject,
  active,
});
const role = (name: string, members: RoleMember[], label = name, labels = {}): AdminRole => ({ name, label, members, labels });

describe("role labels", () => {
  it("shows a standard role in the user's language", () => {
    const fiscaal = role("Fiscaal", [], "Tax adviser", FISCAAL);
    expect(roleLabel(fiscaal, "de")).toBe("Steuerberater");
    expect(roleLabel(fiscaal, "nl")).toBe("Fiscaal medewerker");
    expect(roleLabel(fiscaal, "en")).toBe("Tax adviser");
  });

  it("orders roles by their label in the user's language", () => {
    const roles = [
      role("Accountant", [], "Accountant", { nl: "Accountant", de: "Wirtschaftsprüfer", en: "Accountant" }),
      role("Fiscaal", [], "Tax adviser", FISCAAL),
      role("Collections", [], "Collections"),
    ];
    expect(byLabel(roles, "de").map((r) => r.name)).toEqual(["Collections", "Fiscaal", "Accountant"]);
    expect(byLabel(roles, "en").map((r) => r.name)).toEqual(["Accountant", "Collections", "Fiscaal"]);
  });

  it("keeps the label an office gave a role, in every language", () => {
    expect(roleLabel(role("Fiscaal", [], "Tax team", FISCAAL), "de")).toBe("Tax team");
    expect(roleLabel(role("Collections", [], "Collections"), "nl")).toBe("Collections");
    expect(roleLabel(role("Loonheffing", [], ""), "nl")).toBe("Loonheffing");
  });
});

describe("who holds a role for a subject", () => {
  const studio = client("C-2001", "Studio Noord");
  const groen = client("C-2002");

  it("gives a subject's work to its own members, else to the office's", () => {
    const roles = [
      role("Accountant", [member("ben@x"), member("carla@x"), member("eva@x", studio)]),
      role("Fiscaal", [member("ben@x"), member("finn@x", groen)]),
    ];
    const [accountant, fiscaal] = holdingsFor(roles, studio.id);
    expect(accountant!.own.map((m) => m.email)).toEqual(["eva@x"]);
    expect(accountant!.effective.map((m) => m.email)).toEqual(["eva@x"]);
    expect(fiscaal!.own).toEqual([]);
    expect(fiscaal!.effective.map((m) => m.email)).toEqual(["ben@x"]);
  });

  it("passes over deactivated members, as the runtime does", () => {
    const roles = [role("Accountant", [member("ben@x"), member("old@x", null, false), member("gone@x", studio, false)])];
    const [accountant] = holdingsFor(roles, studio.id);
    expect(accountant!.effective.map((m) => m.email)).toEqual(["ben@x"]);
  });

  it("lists each subject with members of its own once, in order", () => {
    const roles = [
      role("Accountant", [member("eva@x", groen), member("ben@x")]),
      role("Fiscaal", [member("finn@x", studio), member("eva@x", groen)]),
    ];
    expect(subjectsWithOwnMembers(roles).map((s) => s.key)).toEqual(["C-2001", "C-2002"]);
  });
});

describe("users", () => {
  const t = (lang: "en" | "de") => (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) => translate(lang, key, vars);

  it("names access levels in words", () => {
    expect(t("de")(accessKey("member"))).toBe("Mitarbeiter");
    expect(t("en")(accessKey("admin"))).toBe("Administrator");
  });

  it("says the last-admin refusal in the user's language, naming whom it is about", () => {
    const refused = new ApiError(409, "a@x is the last active administrator: make another user an administrator first");
    expect(userError(t("de"), refused)).toMatch(/^Sie sind der letzte aktive Administrator/);
    expect(userError(t("de"), refused, "Anna")).toMatch(/^Anna ist der letzte aktive Administrator/);
    expect(userError(t("de"), new ApiError(409, "a user a@x exists already in this tenant"))).toBe(
      "Einen Benutzer mit dieser E-Mail-Adresse gibt es schon.",
    );
    expect(userError(t("en"), new ApiError(500, "boom"))).toBe("That did not work: boom");
  });
});
