import { describe, expect, it } from "vitest";
import type { Arrangement } from "../src/portalflows/api";
import { adjustmentOf } from "../src/portalflows/decisions";
import { isReviewTask } from "../src/portalflows/ReviewTask";

const proposed: Arrangement = {
  id: "a1",
  status: "review",
  amount: "600.00",
  currency: "EUR",
  open_items: ["F-1"],
  exceeded: ["max_instalments"],
  created_at: "2026-12-03T10:00:00+00:00",
  ended_at: null,
  instalments: [1, 2, 3, 4, 5, 6].map((n) => ({
    number: n,
    due_date: `2027-0${n}-10`,
    amount: "100.00",
    paid_amount: "0.00",
    paid_at: null,
  })),
};

describe("deciding on a reviewed arrangement", () => {
  it("accepts the debtor's own plan when staff change nothing", () => {
    expect(adjustmentOf(proposed, "6", "2027-01-10")).toEqual({});
  });
  it("sends only what staff changed", () => {
    expect(adjustmentOf(proposed, "3", "2027-01-10")).toEqual({ instalments: 3 });
    expect(adjustmentOf(proposed, "6", "2027-02-01")).toEqual({ first_date: "2027-02-01" });
    expect(adjustmentOf(proposed, "4", "2027-02-01")).toEqual({ instalments: 4, first_date: "2027-02-01" });
  });
  it("knows the review task by the debtor and its two outcomes", () => {
    const outcomes = [{ port: "agreed" }, { port: "declined" }];
    expect(isReviewTask({ subject: { type: "debtor" }, outcomes })).toBe(true);
    expect(isReviewTask({ subject: { type: "debtor" }, outcomes: ["done"] })).toBe(false);
    expect(isReviewTask({ subject: { type: "client" }, outcomes })).toBe(false);
  });
});
