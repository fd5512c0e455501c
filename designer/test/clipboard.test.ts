import { describe, expect, it } from "vitest";
import { copyFragment, pasteFragment, readFragment } from "../src/flow/clipboard";
import { diffFlows } from "../src/flow/diff";
import { exampleFiles, readFlow } from "./helpers";

const flow = readFlow(exampleFiles().find((f) => f.endsWith("invoice-approval.json"))!);

describe("copy and paste", () => {
  it("copies the selected nodes and the edges between them", () => {
    const fragment = copyFragment(flow.nodes, flow.edges, new Set(["rejected", "reject_mail", "end_rejected"]));
    expect(fragment.nodes.map((n) => n.id)).toEqual(["rejected", "reject_mail", "end_rejected"]);
    expect(fragment.edges.map((e) => e.id).sort()).toEqual(["reject_mail-no_address-end_rejected", "reject_mail-sent-end_rejected", "rejected-next-reject_mail"]);
  });
  it("pastes into the same flow with fresh ids and edges that follow", () => {
    const fragment = readFragment(JSON.stringify(copyFragment(flow.nodes, flow.edges, new Set(["rejected", "reject_mail"]))))!;
    const ready = pasteFragment(fragment, new Set(flow.nodes.map((n) => n.id)), new Set(flow.edges.map((e) => e.id)), true, { x: 40, y: 40 });
    expect(ready.nodes.map((n) => n.id)).toEqual(["rejected_2", "reject_mail_2"]);
    expect(ready.edges).toEqual([{ id: "rejected_2-next-reject_mail_2", source: "rejected_2", source_port: "next", target: "reject_mail_2" }]);
    expect(ready.nodes[0]!.position).toEqual({ x: 840, y: 740 });
  });
  it("pastes a whole flow file, without a second start", () => {
    const ready = pasteFragment(readFragment(JSON.stringify(flow))!, new Set(["start"]), new Set(), true, { x: 0, y: 0 });
    expect(ready.nodes.some((n) => n.type === "start")).toBe(false);
    expect(ready.nodes).toHaveLength(flow.nodes.length - 1);
  });
  it("ignores text that is not flow JSON", () => {
    expect(readFragment("hello")).toBeNull();
    expect(readFragment('{"a": 1}')).toBeNull();
  });
});

describe("version diff", () => {
  it("names added, removed, changed and moved nodes", () => {
    const next = structuredClone(flow);
    next.nodes = next.nodes.filter((n) => n.id !== "escalate");
    next.nodes.find((n) => n.id === "payable")!.label = "Pay";
    next.nodes.find((n) => n.id === "checks")!.position = { x: 1, y: 1 };
    next.nodes.push({ id: "new", type: "end" });
    const changes = diffFlows(flow, next);
    expect(Object.fromEntries(changes)).toEqual({ escalate: "removed", payable: "changed", checks: "moved", new: "added" });
  });
});
