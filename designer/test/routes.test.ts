import { describe, expect, it } from "vitest";
import { route } from "../src/routes";
import { publishState } from "../src/flow/publish";

describe("pages by path", () => {
  it("knows every page of the designer", () => {
    expect(route("/")).toEqual({ page: "home" });
    expect(route("/flows")).toEqual({ page: "flows" });
    expect(route("/flows/invoice-approval")).toEqual({ page: "editor", key: "invoice-approval" });
    expect(route("/flows/a%20b/versions/3")).toEqual({ page: "editor", key: "a b", version: 3 });
    expect(route("/running/invoice-approval")).toEqual({ page: "running", key: "invoice-approval" });
    expect(route("/inbox")).toEqual({ page: "inbox" });
    expect(route("/login")).toEqual({ page: "login" });
  });

  it("answers an unknown address with not-found, not with the flows list", () => {
    for (const path of ["/nope", "/flows/x/y", "/flows/x/versions/latest", "/inbox/3", "/running"]) {
      expect(route(path)).toEqual({ page: "notFound" });
    }
  });
});

describe("publish", () => {
  const base = { problems: 0, checking: false, current: '{"a":2}', published: '{"a":1}' };
  it("is ready for a checked flow without problems that changed since the last version", () => {
    expect(publishState(base)).toBe("ready");
    expect(publishState({ ...base, published: null })).toBe("ready");
  });
  it("is not offered with nothing changed since the last version", () => {
    expect(publishState({ ...base, current: base.published })).toBe("unchanged");
  });
  it("waits for the check, then for the problems to be solved", () => {
    expect(publishState({ ...base, checking: true })).toBe("checking");
    expect(publishState({ ...base, problems: 2 })).toBe("problems");
  });
});
