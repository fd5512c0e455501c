import { afterEach, describe, expect, it, vi } from "vitest";
import { getAll } from "../src/api";

/** A server holding `total` rows that answers `limit` rows from `offset`, as the API's lists do. */
function pagedServer(total: number) {
  const asked: string[] = [];
  const fetchStub = vi.fn(async (input: RequestInfo | URL) => {
    const url = new URL(String(input), "http://localhost");
    asked.push(url.search);
    const limit = Number(url.searchParams.get("limit") ?? 100);
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const rows = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => ({ key: `flow-${offset + i}` }));
    return new Response(JSON.stringify(rows), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchStub);
  return asked;
}

afterEach(() => vi.unstubAllGlobals());

describe("getAll", () => {
  it("reads every page of a list longer than one page", async () => {
    const asked = pagedServer(2503);
    const rows = await getAll<{ key: string }>("/flows", 1000);
    expect(rows).toHaveLength(2503);
    expect(new Set(rows.map((r) => r.key)).size).toBe(2503);
    expect(asked).toEqual(["?limit=1000&offset=0", "?limit=1000&offset=1000", "?limit=1000&offset=2000"]);
  });

  it("asks once for a list shorter than a page", async () => {
    const asked = pagedServer(3);
    expect(await getAll("/flows")).toHaveLength(3);
    expect(asked).toHaveLength(1);
  });
});
