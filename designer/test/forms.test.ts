// Node forms a consultant reads (issue 13, Deliver 2): the words, order, choices and
// pickers each node type declares reach the form, in the user's language.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { localizeErrors, prepareSchema, titleAt, uiSchemaFor } from "../src/flow/schema";
import { flowSettingsSchema } from "../src/flow/declared";
import { choicesFor, optionText } from "../src/components/pickers/choices";
import type { JsonSchema, Lang } from "../src/types";
import { loadCatalogue, ROOT } from "./helpers";

const catalogue = loadCatalogue();
const params = (type: string, lang: Lang) => prepareSchema(catalogue.get(type)!.params_schema, lang);
const flowSchema = JSON.parse(readFileSync(path.join(ROOT, "docs", "flow.schema.json"), "utf8")) as JsonSchema;

describe("field titles and help", () => {
  it("come from the node type's declaration, in Dutch and German", () => {
    const de = params("assign_role", "de").$defs.AssignRoleParams.properties;
    expect(de.title.title).toBe("Titel der Aufgabe");
    expect(de.title.description).toContain("Posteingang");
    const nl = params("assign_role", "nl").$defs;
    expect(nl.AssignRoleParams.properties.due.title).toBe("Af binnen");
    expect(nl.Assignee.properties.role.title).toBe("Rol");
  });

  it("leave no English title in any node form in German", () => {
    for (const [type, info] of catalogue) {
      const de = prepareSchema(info.params_schema, "de");
      for (const [name, def] of Object.entries<JsonSchema>(de.$defs ?? {})) {
        for (const [prop, schema] of Object.entries<JsonSchema>(def.properties ?? {})) {
          if (!schema["x-title"]) continue;
          expect(schema.title, `${type} ${name}.${prop}`).toBe(schema["x-title"].de);
        }
      }
    }
  });

  it("name the field a server problem points at", () => {
    expect(titleAt(params("assign_role", "de"), "$.assignee.role")).toBe("Rolle");
    expect(titleAt(params("condition", "nl"), "$.branches[1].port")).toBe("Uitgang");
    expect(titleAt(params("wait", "de"), "$.until.field")).toBe("Datumsfeld");
    expect(titleAt(params("wait", "de"), "$.ports.next")).toBeNull();
  });
});

describe("order and choices", () => {
  it("lists fields in the declared order, also when the catalogue's keys were sorted", () => {
    const ui = uiSchemaFor(params("assign_role", "en"));
    const declared = ["title", "instructions", "assignee", "outcomes", "checkpoints", "due"];
    expect(ui["ui:order"].filter((n: string) => declared.includes(n))).toEqual(declared);
    expect(ui["ui:order"].at(-1)).toBe("*");
    const email = uiSchemaFor(params("email", "en"));
    expect(email["ui:order"].slice(0, 4)).toEqual(["to", "template", "subject", "body"]);
  });

  it("offers weekdays Monday first, with their names, in the trigger form", () => {
    const settings = flowSettingsSchema(flowSchema, "de");
    const weekday = settings.$defs.ScheduleTrigger.properties.weekday;
    expect(weekday.title).toBe("Wochentag");
    expect(weekday["x-enum-labels"]).toEqual(["— keine —", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]);
    const ui = uiSchemaFor(settings);
    expect(ui.trigger.weekday["ui:enumNames"][1]).toBe("Montag");
    expect(settings.$defs.ScheduleTrigger.properties.every["x-enum-labels"]).toEqual(["Tag", "Woche", "Monat", "Quartal", "Jahr"]);
    const kinds = (settings.properties.trigger.anyOf as JsonSchema[]).map((m) => settings.$defs[m.$ref.split("/").pop()].title);
    expect(kinds).toEqual(["Von Hand", "Bei einem Ereignis", "Nach Zeitplan"]);
  });

  it("labels time units and orders them by size", () => {
    const unit = params("wait", "nl").$defs.Duration.properties.unit;
    expect(unit.enum).toEqual(["seconds", "minutes", "hours", "days", "business_days", "weeks", "months"]);
    expect(unit["x-enum-labels"][4]).toBe("werkdagen");
  });

  it("titles a union's members by their declared labels, in declared order", () => {
    const wait = params("wait", "de");
    const modes = (wait.$defs.WaitParams.properties.until.anyOf as JsonSchema[]).map((m) => wait.$defs[m.$ref.split("/").pop()].title);
    expect(modes).toEqual(["Eine Weile", "Bis zu einem Datum des Objekts", "Auf ein Ereignis", "Bis eine Bedingung gilt", "Bis eine Regel über Fakten gilt"]);
    // The set-field value: a type choice with translated labels, its value titled the same.
    const change = params("status_change", "nl");
    expect(change.$defs.DecimalValue.title).toBe("Getal");
    expect(change.$defs.DecimalValue.properties.value.title).toBe("Getal");
    expect(change.$defs.StringValue.title).toBe("Tekst");
  });
});

describe("pickers", () => {
  it("replace free text wherever a param declares one", () => {
    const task = uiSchemaFor(params("assign_role", "en"));
    expect(task.assignee.role).toEqual({ "ui:field": "picker", "ui:fieldReplacesAnyOrOneOf": true, "ui:options": { picker: "role" } });
    expect(task.assignee.user["ui:options"].picker).toBe("user");
    expect(uiSchemaFor(params("status_change", "en")).status["ui:options"].picker).toBe("status");
    expect(uiSchemaFor(params("end", "en")).status["ui:options"].picker).toBe("status");
    expect(uiSchemaFor(params("email", "en")).template["ui:options"].picker).toBe("template");
    const wait = uiSchemaFor(params("wait", "en"));
    expect(wait.until.field["ui:options"]).toEqual({ picker: "field_path", fieldTypes: ["date", "datetime"] });
    expect(wait.until.event["ui:options"]).toEqual({ picker: "event" });
    expect(uiSchemaFor(flowSettingsSchema(flowSchema, "en")).trigger.event["ui:options"]).toEqual({ picker: "event" });
    const events = choicesFor("event", {}, "de").map(optionText);
    expect(events).toContain("Zahlung eingegangen (payment.received)");
  });

  it("offer labels with technical names, fitting the flow's subject type", () => {
    const subjectType = {
      name: "debtor",
      statuses: ["active", "dispute"],
      fields: [
        { name: "email", type: "email", label: { en: "Email address", nl: "E-mailadres", de: "E-Mail-Adresse" } },
        { name: "dunning_level", type: "integer", label: { en: "Dunning level", nl: "Aanmaningsniveau", de: "Mahnstufe" } },
        { name: "oldest_due", type: "date", label: { en: "Oldest due date", nl: "Oudste vervaldatum", de: "Älteste Fälligkeit" }, computed: true },
      ],
    };
    const roles = [{ name: "Accountant", label: "Accountant", labels: { nl: "Accountant", de: "Buchhalter" } }];
    expect(choicesFor("role", { roles }, "de").map(optionText)).toEqual(["Buchhalter (Accountant)"]);
    expect(choicesFor("status", { subjectType }, "de").map((c) => c.value)).toEqual(["active", "dispute"]);
    const dispute = choicesFor("status", { subjectType }, "de")[1]!;
    expect(optionText(dispute)).toMatch(/^[^(]+ \(dispute\)$/); // the status in words, then its name
    expect(dispute.label).not.toBe("dispute");
    // A counter is a number field people fill in; a date to wait for may be computed.
    expect(choicesFor("field", { subjectType }, "de", ["integer", "decimal"]).map(optionText)).toEqual(["Mahnstufe (dunning_level)"]);
    expect(choicesFor("field_path", { subjectType }, "nl", ["date", "datetime"]).map(optionText)).toEqual(["Oudste vervaldatum (subject.oldest_due)"]);
    const templates = [
      { name: "reminder", subject_type: "debtor", description: "Friendly reminder" },
      { name: "rejected", subject_type: "invoice", description: "" },
    ];
    expect(choicesFor("template", { templates, subjectType }, "en").map((c) => c.value)).toEqual(["reminder"]);
    const users = [{ email: "anna@example.com", name: "Anna" }, { email: "old@example.com", name: "Old", active: false }];
    expect(choicesFor("user", { users }, "en").map(optionText)).toEqual(["Anna (anna@example.com)"]);
  });
});

describe("validation messages", () => {
  it("speak the user's language and leave out the union noise", () => {
    const errors = [
      { name: "anyOf", property: ".set.0.value", message: "must match a schema in anyOf", stack: "" },
      { name: "required", property: ".title", message: "must have required property 'title'", params: { missingProperty: "title" }, stack: "" },
      { name: "maxLength", property: ".instructions", message: "must NOT have more than 10000 characters", params: { limit: 10000 }, stack: "" },
      { name: "pattern", property: ".outcomes.0.port", message: "must match pattern", params: { pattern: "^[a-z][a-z0-9_]{0,63}$" }, stack: "" },
    ];
    const de = localizeErrors(errors, "de").map((e) => e.message);
    expect(de).toEqual([
      "Bitte ausfüllen.",
      "Höchstens 10.000 Zeichen.",
      "Nur Kleinbuchstaben, Ziffern und _, beginnend mit einem Buchstaben (rechnung_freigeben).",
    ]);
    expect(localizeErrors(errors, "nl")[1]!.message).toBe("Hoogstens 10.000 tekens.");
  });
});
