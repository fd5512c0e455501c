import { describe, expect, it } from "vitest";
import { displayName, fieldValue, formatValue, listColumns, MAX_COLUMNS, pageRange, KNOWN_STATUSES } from "../src/subjects/columns";
import { instanceStatusKey, itemStatusKey, subjectStatusKey } from "../src/subjects/status";
import { reasonText } from "../src/components/StartFlowDialog";
import type { Subject, SubjectTypeInfo } from "../src/subjects/model";
import { translate } from "../src/i18n";

const label = (en: string) => ({ en, nl: en, de: en });
const debtor: SubjectTypeInfo = {
  name: "debtor",
  label: label("Debtor"),
  statuses: ["active", "dispute"],
  fields: [
    { name: "phone", type: "string", label: label("Phone") },
    { name: "name", type: "string", label: label("Name") },
    { name: "notes", type: "text", label: label("Notes") },
    { name: "email", type: "email", label: label("Email") },
    { name: "debt_amount", type: "decimal", label: label("Debt"), computed: true },
    { name: "problematic", type: "bool", label: label("Problematic") },
  ],
};
const words = { yes: "ja", no: "nein" };

function subject(fields: Record<string, unknown>): Subject {
  return { id: "1", type: "invoice", key: "INV-1", status: "", fields, version: 1, created_at: "", updated_at: "" };
}

describe("the subject list's columns", () => {
  it("puts the name and the telling fields first, then plain ones, at most four", () => {
    const names = listColumns(debtor).map((c) => c.name);
    expect(names).toEqual(["name", "email", "debt_amount", "phone"]);
    expect(names.length).toBeLessThanOrEqual(MAX_COLUMNS);
  });

  it("has none without a type (the list then shows key, type and name)", () => {
    expect(listColumns(undefined)).toEqual([]);
  });

  it("reads nested and flat dotted fields", () => {
    expect(fieldValue({ supplier: { name: "Acme" } }, "supplier.name")).toBe("Acme");
    expect(fieldValue({ "supplier.name": "Flat" }, "supplier.name")).toBe("Flat");
    expect(fieldValue({ supplier: "text" }, "supplier.name")).toBeUndefined();
    expect(displayName(subject({ supplier: { name: "Acme" } }))).toBe("Acme");
    expect(displayName(subject({}))).toBe("INV-1");
  });
});

describe("values in the user's language", () => {
  it("formats amounts, with the currency when the subject has one", () => {
    expect(formatValue("1234.5", "decimal", "nl", words)).toBe("1.234,50");
    expect(formatValue("1234.5", "decimal", "en", words)).toBe("1,234.50");
    expect(formatValue("1234.5", "decimal", "de", words, "EUR")).toBe("1.234,50\u00a0€");
    expect(formatValue(12000, "integer", "de", words)).toBe("12.000");
    expect(formatValue("n/a", "decimal", "en", words)).toBe("n/a");
  });

  it("formats dates without shifting the day, and yes/no in words", () => {
    expect(formatValue("2026-03-01", "date", "nl", words)).toBe("1 mrt 2026");
    expect(formatValue("2026-03-01", "date", "de", words)).toBe("01.03.2026");
    expect(formatValue(true, "bool", "de", words)).toBe("ja");
    expect(formatValue(["a", "b"], "list", "en", words)).toBe("a, b");
    expect(formatValue(null, "string", "en", words)).toBe("");
  });

  it("says which rows a page shows", () => {
    expect(pageRange(0, 50, 1234, "en", "of")).toBe("1–50 of 1,234");
    expect(pageRange(50, 50, null, "de", "von")).toBe("51–100");
    expect(pageRange(0, 0, 0, "nl", "van")).toBe("0 van 0");
  });
});

describe("statuses and refusals in words", () => {
  it("has a text in every language for each built-in status", () => {
    for (const status of KNOWN_STATUSES) {
      const key = subjectStatusKey(status);
      expect(key, status).not.toBeNull();
      for (const lang of ["en", "nl", "de"] as const) expect(translate(lang, key!), status).not.toBe(status);
    }
    expect(subjectStatusKey("our_own_status")).toBeNull();
    expect(instanceStatusKey("running")).toBe("stRunning");
    // every status an open item can have (backend/procedo/db/receivables.py ITEM_STATUSES)
    for (const status of ["open", "dispute", "promise", "payment_plan", "outsourced", "paid"]) {
      expect(itemStatusKey(status), status).not.toBeNull();
    }
  });

  it("reads the server's refusal reasons", () => {
    expect(reasonText("the flow already runs on it (running)")?.key).toBe("sfReasonRunning");
    expect(reasonText("already started for 2026-11 (pending)")).toEqual({ key: "sfReasonPeriod", vars: { period: "2026-11" } });
    expect(reasonText("a 'client'; the flow runs on 'debtor' subjects")).toEqual({ key: "sfReasonType", vars: { type: "client" } });
    expect(reasonText("something new")).toBeNull();
  });
});
