import { readFileSync } from "node:fs";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { ROOT, exampleFiles } from "./helpers";

/** The published JSON Schema describes the files Procedo writes: every shipped example matches it. */
describe("docs/flow.schema.json", () => {
  const schema = JSON.parse(readFileSync(path.join(ROOT, "docs", "flow.schema.json"), "utf8"));
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat("decimal", true).addFormat("date", true).addFormat("date-time", true);
  const validate = ajv.compile(schema);

  it.each(exampleFiles())("accepts %s", (file) => {
    const ok = validate(JSON.parse(readFileSync(file, "utf8")));
    expect(ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
  });
});
