import { describe, expect, it } from "vitest";
import { probeFlow, validateAll } from "../src/flow/probe";
import type { Flow, FlowCheck, Problem } from "../src/types";

const flow: Flow = {
  format: "procedo.flow/1",
  key: "k",
  name: "",
  subject_type: "debtor",
  trigger: { kind: "schedule" },
  nodes: [{ id: "start", type: "start" }],
  edges: [],
};
const EVERY: Problem = { code: "flow.invalid", message: "Object missing required field `every`", path: "$.trigger" };
const NAME: Problem = { code: "flow.invalid", message: "Expected `str` of length >= 1", path: "$.name" };
const UNCONNECTED: Problem = { code: "node.port.unconnected", message: "leads nowhere", node: "start", path: "$.ports.next" };
const NO_END: Problem = { code: "flow.end.missing", message: "add one" };

/** The server as it is: a document that does not decode gets its first decode problem only. */
const PORTS = { start: [{ name: "next", label: { en: "Next", nl: "Volgende", de: "Weiter" } }] };
function server(f: Flow): Promise<FlowCheck> {
  const trigger = f.trigger as { kind: string; every?: string };
  if (trigger.kind === "schedule" && !trigger.every) return Promise.resolve({ problems: [EVERY], ports: {} });
  if (!f.name) return Promise.resolve({ problems: [NAME], ports: {} });
  return Promise.resolve({ problems: [UNCONNECTED, NO_END], ports: PORTS });
}

describe("every problem, not only the first", () => {
  it("lists the nodes' and the graph's problems beside a missing trigger field and an empty name", async () => {
    expect(await validateAll(flow, server)).toEqual({ problems: [EVERY, NAME, UNCONNECTED, NO_END], ports: PORTS });
    expect((await validateAll({ ...flow, name: "n" }, server)).problems).toEqual([EVERY, UNCONNECTED, NO_END]);
  });

  it("stands in for each part that fails in turn", async () => {
    const first = probeFlow(flow, [EVERY]);
    expect(first?.probe.trigger).toEqual({ kind: "manual" });
    expect(first?.probe.name).toBe("");
    expect(probeFlow(flow, [NAME])?.probe.name).toBe("k");
  });

  it("asks once when nothing stopped the check early, and never for nodes or edges", async () => {
    let calls = 0;
    const counting = (f: Flow) => { calls += 1; return server(f); };
    await validateAll({ ...flow, name: "n", trigger: { kind: "manual" } }, counting);
    expect(calls).toBe(1);
    expect(probeFlow(flow, [{ code: "flow.invalid", message: "x", path: "$.nodes[0]" }])).toBeNull();
    expect(probeFlow(flow, [{ code: "flow.invalid", message: "x", path: "$.params.a", node: "n" }])).toBeNull();
  });
});
