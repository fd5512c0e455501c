import { describe, expect, it } from "vitest";
import { prepareSchema } from "../src/flow/schema";
import { openMandatory, progress, tickOf } from "../src/phases/logic";
import type { JsonSchema } from "../src/types";
import { loadCatalogue } from "./helpers";

const task = {
  checkpoints: [
    { id: "bank", label: "Bank statements processed", mandatory: true },
    { id: "cash", label: "Cash book checked" },
    { id: "sales", label: "Sales invoices booked", mandatory: true },
  ],
  ticked: ["cash", "sales"],
  ticks: {
    cash: { by: "eva@office.example", at: "2026-12-03T09:00:00+00:00" },
    sales: { by: "finn@office.example", at: "2026-12-03T09:05:00+00:00" },
    bank: { by: "stale@office.example", at: "2026-12-02T09:00:00+00:00" },
  },
};

describe("a task's checkpoints", () => {
  it("blocks completing while a mandatory one is open, and only for those", () => {
    expect(openMandatory(task).map((c) => c.id)).toEqual(["bank"]);
    expect(openMandatory({ ...task, ticked: ["bank", "sales"] })).toEqual([]);
    expect(openMandatory({ checkpoints: task.checkpoints })).toHaveLength(2);
  });

  it("says who ticked a ticked one, and nothing for an unticked one", () => {
    expect(tickOf(task, "sales")).toEqual({ by: "finn@office.example", at: "2026-12-03T09:05:00+00:00" });
    // Unticked since (the list says so): no stale name is shown.
    expect(tickOf(task, "bank")).toBeNull();
    // Ticked before who and when were kept.
    expect(tickOf({ ...task, ticks: {} }, "cash")).toBeNull();
  });

  it("counts the ticked ones", () => {
    expect(progress(task)).toBe("2/3");
    expect(progress({ ...task, ticked: ["gone"] })).toBe("0/3");
  });
});

// The real catalogue, read once as the file loads (the CLI takes a few seconds).
const catalogue = loadCatalogue();

describe("the phase node's form", () => {
  it("labels what each automation on entering may be, in the user's language", () => {
    const de = prepareSchema(catalogue.get("phase")!.params_schema, "de");
    const kinds = (de.$defs.PhaseParams.properties.on_enter.items.anyOf as JsonSchema[]).map((m) => de.$defs[m.$ref.split("/").pop()].title);
    expect(kinds).toEqual(["Nachricht senden", "Aufgabe anlegen"]);
    expect(de.$defs.PhaseParams.properties.advance["x-enum-labels"]).toEqual(["Wenn jemand sie abschließt", "Von selbst"]);
  });
});
