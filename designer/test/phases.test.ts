import { describe, expect, it } from "vitest";
import { openMandatory, progress, tickOf } from "../src/phases/logic";

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
