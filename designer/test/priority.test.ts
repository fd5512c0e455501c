import { describe, expect, it } from "vitest";
import { moved, skipReason } from "../src/priority/api";

describe("the order of scheduled workflows (D5)", () => {
  it("moves one workflow to a place, the others keeping their order", () => {
    const list = ["reminder", "notice", "call", "lawyer"];
    expect(moved(list, 3, 0)).toEqual(["lawyer", "reminder", "notice", "call"]);
    expect(moved(list, 0, 2)).toEqual(["notice", "call", "reminder", "lawyer"]);
    expect(moved(list, 1, 2)).toEqual(["reminder", "call", "notice", "lawyer"]);
    expect(list).toEqual(["reminder", "notice", "call", "lawyer"]); // not changed in place
  });

  it("leaves the list as it is for a move to the same place or off the list", () => {
    const list = ["a", "b"];
    expect(moved(list, 1, 1)).toBe(list);
    expect(moved(list, 0, 2)).toBe(list);
    expect(moved(list, -1, 0)).toBe(list);
  });

  it("says why a run skipped a customer, in each language", () => {
    const earlier = { outcome: "earlier", by_flow: "Erinnerung", reason: "acted on by Erinnerung in this slot" };
    expect(skipReason(earlier, "en")).toBe("acted on by Erinnerung in this slot");
    expect(skipReason(earlier, "de")).toBe("bearbeitet von Erinnerung in diesem Lauf");
    expect(skipReason({ outcome: "open", by_flow: null, reason: null }, "nl")).toBe("deze workflow loopt nog bij deze klant");
    expect(skipReason({ outcome: "refused", by_flow: null, reason: "already started for 2026-11" }, "en")).toBe(
      "not started: already started for 2026-11",
    );
  });
});
