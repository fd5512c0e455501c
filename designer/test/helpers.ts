import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import type { Flow, NodeTypeInfo, PortInfo } from "../src/types";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const EXAMPLES = path.join(ROOT, "docs", "examples");

export function exampleFiles(): string[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith(".json"))
    .map((f) => path.join(EXAMPLES, f));
}

export function readFlow(file: string): Flow {
  return JSON.parse(readFileSync(file, "utf8")) as Flow;
}

let catalogue: NodeTypeInfo[] | null = null;
/** The real node catalogue (`procedo nodes --json`); scripts/test has made .venv first. */
export function loadCatalogue(): Map<string, NodeTypeInfo> {
  if (!catalogue) {
    const cli = path.join(ROOT, ".venv", "bin", "procedo");
    try {
      catalogue = JSON.parse(execFileSync(cli, ["nodes", "--json"], { encoding: "utf8" })) as NodeTypeInfo[];
    } catch (e) {
      throw new Error(`the node catalogue comes from ${cli} nodes --json; run scripts/test (it makes .venv): ${e}`);
    }
  }
  return new Map(catalogue.map((n) => [n.type, n]));
}

/** Each node's ports as the server derives them (what POST /flows/validate answers), per flow. */
export function serverPorts(flows: Flow[]): Record<string, PortInfo[]>[] {
  const python = path.join(ROOT, ".venv", "bin", "python");
  const script = `
import json, sys
import msgspec
from procedo.flow.codec import decode_flow
from procedo.flow.validate import check_flow
out = []
for doc in json.load(sys.stdin):
    checked = check_flow(decode_flow(json.dumps(doc).encode()))
    out.append({i: [msgspec.to_builtins(p) for p in n.ports] for i, n in checked.nodes.items()})
print(json.dumps(out))
`;
  const answer = execFileSync(python, ["-c", script], { input: JSON.stringify(flows), encoding: "utf8" });
  return JSON.parse(answer) as Record<string, PortInfo[]>[];
}
