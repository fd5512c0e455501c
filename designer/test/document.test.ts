import { describe, expect, it } from "vitest";
import { docOf } from "../src/flow/document";

const flow = { format: "procedo.flow/1", key: "f", name: "F", nodes: [{ id: "start", type: "start" }] };

describe("docOf", () => {
  it("finds the flow document in each kind of answer", () => {
    expect(docOf(flow)).toBe(flow);
    expect(docOf({ number: 2, document: flow })).toBe(flow);
    expect(docOf({ key: "f", draft: flow })).toBe(flow);
  });

  it("says so when an answer holds no flow", () => {
    expect(() => docOf({ key: "f" })).toThrow("the server sent no flow document");
  });
});
