import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describeHistory, KIND_TEXTS, nameFromEmail, statusLabel, type HistoryEntry } from "../src/history/describe";
import { ROOT } from "./helpers";

function pythonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === "migrations" || name === "web" ? [] : pythonFiles(full);
    return name.endsWith(".py") ? [full] : [];
  });
}

/** Every history kind the backend writes as a literal, plus the ones it builds from parts. */
function writtenKinds(): Set<string> {
  const kinds = new Set<string>();
  for (const file of pythonFiles(path.join(ROOT, "backend", "procedo"))) {
    const source = readFileSync(file, "utf8");
    if (!/history\(|m\.History\(|links\.log\(|_audit\(|log\(session/.test(source)) continue;
    for (const m of source.matchAll(/"kind": "([a-z_.]+)"/g)) kinds.add(m[1]!);
    for (const m of source.matchAll(/_audit\([^)]*"([a-z_]+)"/g)) kinds.add(m[1]!);
    for (const m of source.matchAll(/log\(\s*session,[^"]*"([a-z_.]+)"/g)) kinds.add(m[1]!);
  }
  // Built from parts: the engine's trail, an instance's end, the queued message's kind, portal reactions.
  const engine = readFileSync(path.join(ROOT, "backend", "procedo", "engine.py"), "utf8");
  const trail = /kind: Literal\[([^\]]+)\]/.exec(engine)![1]!;
  for (const m of trail.matchAll(/"([a-z_]+)"/g)) kinds.add(m[1]!);
  for (const outcome of ["completed", "stopped", "cancelled"]) kinds.add(`instance_${outcome}`);
  kinds.add("email_queued").add("letter_queued").add("sms_queued");
  for (const end of ["sent", "failed", "resent"]) kinds.add(`sms_${end}`);
  const reactions = readFileSync(path.join(ROOT, "backend", "procedo", "portal", "reactions.py"), "utf8");
  const events = /EVENTS[^{]*\{([^}]+)\}/.exec(reactions)![1]!;
  for (const m of events.matchAll(/: "([a-z_]+)"/g)) kinds.add(`portal.${m[1]}`);
  return kinds;
}

const entry = (over: Partial<HistoryEntry>): HistoryEntry => ({
  seq: 1, at: "2026-01-05T10:00:00Z", actor: "system", kind: "left", node: null, to_node: null, port: null, reason: null, data: {}, ...over,
});
const LABELS: Record<string, string> = { approve: "Factuur goedkeuren", route: "Bedrag?", end: "Klaar" };
const label = (id: string) => LABELS[id] ?? id;

describe("history in words", () => {
  it("has a sentence for every kind the runtime writes", () => {
    const kinds = writtenKinds();
    expect(kinds.size).toBeGreaterThan(25);
    const missing = [...kinds].filter((k) => !(k in KIND_TEXTS));
    expect(missing).toEqual([]);
  });

  it("says who did what with the node's label, in each language, the code kept", () => {
    const done = entry({ kind: "task_completed", actor: "anna@demo.example", node: "approve", port: "ok" });
    const portLabel = () => "Goedkeuren";
    const nl = describeHistory(done, "nl", label, { portLabel });
    expect(nl.text).toBe("Anna heeft ‘Factuur goedkeuren’ afgehandeld: ‘Goedkeuren’");
    expect(nl.code).toBe("task_completed approve -> ok");
    expect(describeHistory(done, "de", label, { portLabel }).text).toBe("Anna hat „Factuur goedkeuren“ erledigt: „Goedkeuren“");
    expect(describeHistory(done, "en", label).text).toBe("Anna completed ‘Factuur goedkeuren’: ‘ok’");
  });

  it("names assignees, moves, failures and status changes", () => {
    const opened = entry({ kind: "task_opened", node: "approve", data: { title: "Approve 42", assignee: "role approvers" } });
    expect(describeHistory(opened, "de", label).text).toBe("Aufgabe „Approve 42“ für Rolle approvers eröffnet");
    const moved = entry({ kind: "moved", actor: "ben.de.wit@demo.example", node: "approve", to_node: "route" });
    expect(describeHistory(moved, "nl", label).text).toBe("Ben De Wit heeft de flow van ‘Factuur goedkeuren’ naar ‘Bedrag?’ verplaatst");
    const failed = entry({ kind: "failed", node: "approve", data: { error: "TemplateError: x" } });
    expect(describeHistory(failed, "de", label).text).toBe("„Factuur goedkeuren“ ist fehlgeschlagen: TemplateError: x");
    const status = entry({ kind: "status_changed", data: { from: "new", to: "approved" } });
    expect(describeHistory(status, "nl", label, { subjectStatus: (s) => (s === "approved" ? "Goedgekeurd" : s) }).text).toBe("Status gewijzigd van ‘new’ naar ‘Goedgekeurd’");
    expect(describeHistory(entry({ kind: "instance_started", data: { version: 3 } }), "de", label).text).toBe("Procedo hat den Ablauf gestartet (Version 3)");
  });

  it("keeps an unknown kind readable and its code", () => {
    const d = describeHistory(entry({ kind: "something_new", actor: "carla@x.nl" }), "de", label);
    expect(d.text).toBe("Carla: something_new");
  });

  it("labels statuses, leaving unknown ones as they are", () => {
    expect(statusLabel("failed", "de")).toBe("Fehlgeschlagen");
    expect(statusLabel("running", "nl")).toBe("Lopend");
    expect(statusLabel("weird", "nl")).toBe("weird");
    expect(nameFromEmail("system")).toBe("system");
  });
});
