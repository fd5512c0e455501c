import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { prepareSchema, pruneDefaults, uiSchemaFor } from "../src/flow/schema";
import { DECLARED_ORDER, flowSettingsSchema } from "../src/flow/declared";
import type { JsonSchema } from "../src/types";
import { loadCatalogue, ROOT } from "./helpers";

const catalogue = loadCatalogue();

describe("params schema for the form", () => {
  it("puts the rule builder wherever a rule tree is, for every node type", () => {
    const condition = prepareSchema(catalogue.get("condition")!.params_schema);
    const ui = uiSchemaFor(condition);
    expect(ui.branches.items.when["ui:field"]).toBe("rule");
    const wait = uiSchemaFor(prepareSchema(catalogue.get("wait")!.params_schema));
    expect(JSON.stringify(wait)).toContain('"ui:field":"rule"');
  });
  it("hides discriminator tags", () => {
    const ui = uiSchemaFor(prepareSchema(catalogue.get("email")!.params_schema));
    expect(ui.to.kind["ui:widget"]).toBe("hidden");
  });
  it("drops defaults the form fills in, at any depth", () => {
    const schema = prepareSchema(catalogue.get("assign_role")!.params_schema);
    const before = { title: "T", assignee: { role: "A" }, outcomes: [{ port: "ok", label: "OK" }] };
    const filled = { ...before, assignee: { role: "A", user: "" }, checkpoints: [], instructions: "", due: null };
    expect(pruneDefaults(filled, before, schema)).toEqual(before);
    const edited = { ...filled, instructions: "Check it" };
    expect(pruneDefaults(edited, before, schema)).toEqual({ ...before, instructions: "Check it" });
  });
  it("keeps the tag of a union member the user chose: a new set-field value is saved with its type", () => {
    const schema = prepareSchema(catalogue.get("status_change")!.params_schema);
    const before = { status: "approved" };
    // What the form hands over after "+" on "Set" and typing a number: the Decimal member, its tag filled in.
    const added = { status: "approved", set: [{ field: "reviewed", value: { type: "decimal", value: "12" } }] };
    expect(pruneDefaults(added, before, schema)).toEqual(added);
    const kept = { status: "approved", set: [{ field: "reviewed", value: { type: "decimal", value: "12" } }] };
    expect(pruneDefaults(kept, kept, schema)).toEqual(kept);
  });
});

describe("server problems in the form", () => {
  it("puts each message under the field its path names", async () => {
    const { errorSchemaFor } = await import("../src/flow/schema");
    expect(
      errorSchemaFor([
        { message: "rename it", path: "$.branches[1].port" },
        { message: "unknown field", path: "$.branches[1].when.field" },
        { message: "leads nowhere", path: "$.ports.next" },
        { message: "no path" },
      ]),
    ).toEqual({ branches: { 1: { port: { __errors: ["rename it"] }, when: { field: { __errors: ["unknown field"] } } } } });
  });
});

describe("the order of choices and fields", () => {
  const flowSchema = JSON.parse(readFileSync(path.join(ROOT, "docs", "flow.schema.json"), "utf8")) as JsonSchema;
  const settings = flowSettingsSchema(flowSchema);

  it("lists weekdays Monday to Sunday and time units by size, not alphabetically", () => {
    // "No weekday" is the empty choice of the same drop-down (flow/schema.ts collapseNullable).
    const weekday = settings.$defs.ScheduleTrigger.properties.weekday.enum;
    expect(weekday).toEqual([null, "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]);
    const wait = prepareSchema(catalogue.get("wait")!.params_schema);
    expect(wait.$defs.Duration.properties.unit.enum).toEqual(["seconds", "minutes", "hours", "days", "business_days", "weeks", "months"]);
  });

  it("shows a trigger's fields in the order the format declares them", () => {
    const order: string[] = uiSchemaFor(settings).trigger["ui:order"];
    const schedule = DECLARED_ORDER.ScheduleTrigger!;
    expect(order.filter((name) => schedule.includes(name))).toEqual(schedule);
  });

  it("declares exactly the schema's trigger fields (a new field needs its place)", () => {
    for (const [name, order] of Object.entries(DECLARED_ORDER)) {
      expect([...order].sort()).toEqual(Object.keys(flowSchema.$defs[name].properties).sort());
    }
  });
});
