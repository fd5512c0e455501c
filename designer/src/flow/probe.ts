// Every problem, not only the first: the server checks the nodes and the graph only once
// the flow document decodes, so one flow-level field not filled in yet (a schedule's
// "every", an empty name) used to hide all other problems. The designer then asks again
// with a stand-in for just the parts that failed to decode, and lists both answers.
import type { Flow, FlowCheck, Problem } from "../types";

const DECODE = "flow.invalid";

/** The flow-level field a decode problem is about: "$.trigger.every" -> "trigger". */
function partOf(p: Problem): string {
  const path = p.path ?? "$";
  const step = /^\$\.([A-Za-z_]+)/.exec(path)?.[1];
  if (step) return step;
  // "Object missing required field `name`" at "$".
  return /`([A-Za-z_]+)`/.exec(p.message)?.[1] ?? "";
}

/**
 * The flow with a valid stand-in for each flow-level part a decode problem names, so the
 * server can check the rest; null when there is none, or a part has no stand-in.
 */
export function probeFlow(flow: Flow, problems: Problem[]): { probe: Flow; parts: Set<string> } | null {
  const decode = problems.filter((p) => p.code === DECODE && !p.node && !p.edge);
  if (!decode.length) return null;
  const probe: Flow = { ...flow };
  const parts = new Set<string>();
  for (const p of decode) {
    const part = partOf(p);
    if (part === "trigger") probe.trigger = { kind: "manual" };
    else if (part === "stop_when") delete probe.stop_when;
    else if (part === "name") probe.name = flow.key || "flow";
    else if (part === "description") delete probe.description;
    else return null; // the key, the format, nodes or edges: nothing to stand in for
    parts.add(part);
  }
  return { probe, parts };
}

/**
 * The server's problems for the flow, and its nodes' ports: when the first answer stopped
 * at a flow-level field, asked again with stand-ins (round by round, as each answer names
 * the next such field). The stand-ins touch no node, so the nodes' ports of an answer
 * with stand-ins are the flow's.
 */
export async function validateAll(flow: Flow, validate: (f: Flow) => Promise<FlowCheck>, rounds = 4): Promise<FlowCheck> {
  const first = await validate(flow);
  const all = [...first.problems];
  const ports = { ...first.ports };
  const seen = new Set(all.map((p) => JSON.stringify(p)));
  let decode = all.filter((p) => p.code === DECODE);
  for (let round = 0; round < rounds; round += 1) {
    const probing = probeFlow(flow, decode);
    if (!probing) break;
    let more: Problem[];
    try {
      const answer = await validate(probing.probe);
      more = answer.problems;
      for (const [node, found] of Object.entries(answer.ports)) ports[node] ??= found;
    } catch {
      break; // what was found so far stands
    }
    for (const p of more) {
      // What the stand-ins themselves could cause is not the flow's.
      const about = /^\$\.([A-Za-z_]+)/.exec(p.path ?? "")?.[1];
      const key = JSON.stringify(p);
      if ((about && probing.parts.has(about)) || seen.has(key)) continue;
      seen.add(key);
      all.push(p);
    }
    const next = more.filter((p) => p.code === DECODE && !p.node && !p.edge);
    if (!next.length) break;
    decode = [...decode, ...next];
  }
  return { problems: all, ports };
}
