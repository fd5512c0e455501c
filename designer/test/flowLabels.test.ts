import { describe, expect, it } from "vitest";
import { flowTitle } from "../src/flowLabels";

describe("flowTitle", () => {
  const flow = { name: "Dunning level 1: reminder", labels: { en: "Dunning level 1: reminder", nl: "Aanmaning niveau 1: herinnering", de: "Mahnstufe 1: Zahlungserinnerung" } };

  it("names a flow in the UI language", () => {
    expect(flowTitle(flow, "de")).toBe("Mahnstufe 1: Zahlungserinnerung");
    expect(flowTitle(flow, "nl")).toBe("Aanmaning niveau 1: herinnering");
  });

  it("falls back to the name, then to the key, where no label is given", () => {
    expect(flowTitle({ name: "Own flow", labels: { de: "Eigener Ablauf" } }, "nl")).toBe("Own flow");
    expect(flowTitle({ name: "Own flow" }, "de")).toBe("Own flow");
    expect(flowTitle(undefined, "de", "own-flow")).toBe("own-flow");
  });
});
