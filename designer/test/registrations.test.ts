import { describe, expect, it } from "vitest";
import { grouped, type Registration } from "../src/procedures/registrations";
import { startRule } from "../src/procedures/RegistrationDialog";

function reg(flow_key: string, kind: "primary" | "secondary", isDefault = false): Registration {
  return {
    flow_key, kind, priority: 10, rule: null, default: isDefault, updated_at: "", updated_by: "", name: flow_key,
    version: 1, subject_type: "debtor", rule_text: null, stop_when: null, stop_text: null, running: 0,
  };
}

describe("procedure registrations (P5)", () => {
  it("splits the server's list into the ordered primaries, the default and the secondaries", () => {
    const list = [reg("late", "primary"), reg("big", "primary"), reg("standard", "primary", true), reg("dispute", "secondary")];
    const groups = grouped(list);
    expect(groups.ordered.map((r) => r.flow_key)).toEqual(["late", "big"]); // the server's order kept
    expect(groups.fallback?.flow_key).toBe("standard");
    expect(groups.secondary.map((r) => r.flow_key)).toEqual(["dispute"]);
    expect(grouped([reg("dispute", "secondary")]).fallback).toBeNull();
  });

  it("starts a new rule on the D.I.P. when the debtor has it", () => {
    const dip = { path: "subject.oldest_overdue_days", type: "integer", label: "D.I.P." };
    expect(startRule({ subjectType: "debtor", fields: [dip] })).toEqual({
      kind: "compare", field: "subject.oldest_overdue_days", op: ">=", value: { type: "decimal", value: "0" },
    });
    expect(startRule({ subjectType: "debtor", fields: [] })).toEqual({ kind: "compare", field: "subject.status", op: "is_set" });
  });
});
