import { describe, expect, it } from "vitest";
import { bulkSummary, eachOf, explainError, failedFirst, mayCancel, mayRetry, statusesOf, taskQuery } from "../src/work/logic";
import { work } from "../src/texts/work";

const labels: Record<string, string> = { mail: "Send reminder", task: "Approve" };
const label = (id: string) => labels[id] ?? id;

describe("a failed instance's error in plain words", () => {
  const missing = "TemplateError: node 'mail' $.body: template cannot be rendered: 'dict object' has no attribute 'phone'";

  it("names the email by its label, the field, and what to do, in each language", () => {
    const en = explainError(missing, "mail", label, "en")!;
    expect(en.text).toContain("“Send reminder”");
    expect(en.text).toContain("“phone”");
    expect(en.text).toContain("then retry");
    expect(en.code).toBe(missing);
    const de = explainError(missing, "mail", label, "de")!;
    expect(de.text).toContain("„Send reminder“");
    expect(de.text).toContain("Text");
    expect(de.text).not.toContain("then retry");
    expect(explainError(missing.replace("$.body", "$.subject"), "mail", label, "nl")!.text).toContain("onderwerpregel");
  });

  it("keeps other template problems and other failures readable, without the exception's class", () => {
    const syntax = "TemplateError: node 'mail' $.body: template cannot be rendered: unexpected '}'";
    expect(explainError(syntax, "mail", label, "en")!.text).toBe("The text of “Send reminder” could not be made: unexpected '}'");
    expect(explainError("ValueError: no rate for 2026", "task", label, "en")!.text).toBe("The step “Approve” failed: no rate for 2026");
    expect(explainError("ValueError: no rate", null, label, "nl")!.text).toBe("Een stap is mislukt: no rate");
    expect(explainError(null, "mail", label, "en")).toBeNull();
  });
});

describe("instances", () => {
  it("lists failed ones first, then the most recently changed", () => {
    const rows = [
      { id: "a", status: "running", updated_at: "2026-12-03T10:00:00Z" },
      { id: "b", status: "failed", updated_at: "2026-12-01T10:00:00Z" },
      { id: "c", status: "running", updated_at: "2026-12-03T12:00:00Z" },
      { id: "d", status: "failed", updated_at: "2026-12-02T10:00:00Z" },
    ];
    expect(failedFirst(rows).map((r) => r.id)).toEqual(["d", "b", "c", "a"]);
  });

  it("asks the server for the failed ones first when showing what is not finished", () => {
    expect(statusesOf("open")).toEqual(["failed", "running", "pending"]);
    expect(statusesOf("all")).toEqual([null]);
    expect(statusesOf("cancelled")).toEqual(["cancelled"]);
  });

  it("offers retry only for failed ones and cancel only for unfinished ones", () => {
    expect(["pending", "running", "failed", "completed", "cancelled"].filter(mayRetry)).toEqual(["failed"]);
    expect(["pending", "running", "failed", "completed", "cancelled"].filter(mayCancel)).toEqual(["pending", "running", "failed"]);
  });
});

describe("all tasks", () => {
  it("asks for everyone's open tasks with only the filters set", () => {
    expect(taskQuery({ flow: "", role: "", user: "", overdue: false }, 100, 0).toString()).toBe("scope=all&status=open&limit=100&offset=0");
    const q = taskQuery({ flow: "dunning", role: "Collections", user: "ben@demo.example", overdue: true }, 100, 200);
    expect(Object.fromEntries(q)).toEqual({
      scope: "all", status: "open", limit: "100", offset: "200", flow: "dunning", role: "Collections", user: "ben@demo.example", overdue: "true",
    });
  });

  it("says how many a bulk action did and which not, and why", async () => {
    const results = await eachOf(["T1", "T2", "T3"], (x) => x, async (x) => { if (x === "T2") throw new Error("the task is completed, no longer open"); });
    expect(bulkSummary(results, "en", "wBulkReassigned")).toBe("2 of 3 tasks reassigned. Not done: T2: the task is completed, no longer open");
    expect(bulkSummary(results.filter((r) => !r.error), "de", "wBulkReassigned")).toBe("2 von 2 Aufgaben neu zugewiesen.");
  });
});

describe("the work texts", () => {
  it("have Dutch and German of their own (no English left where the languages differ)", () => {
    const same = Object.entries(work).filter(([, [en, nl, de]]) => en.length > 12 && (en === nl || en === de));
    expect(same).toEqual([]);
    for (const [, triple] of Object.entries(work)) for (const text of triple) expect(text.trim()).not.toBe("");
  });
});
