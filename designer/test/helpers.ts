import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import type { Flow, NodeTypeInfo } from "../src/types";

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
