// After `vite build`: the API docs page's files (Swagger UI, from the swagger-ui-dist
// package) go into the build as docs-ui/, so `procedo serve` shows /schema with
// nothing fetched from a CDN (backend/procedo/api/docs_ui.py writes the page).
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];
const require = createRequire(import.meta.url);
const source = path.dirname(require.resolve("swagger-ui-dist/package.json"));
const target = fileURLToPath(new URL("../../backend/procedo/web/docs-ui/", import.meta.url));
mkdirSync(target, { recursive: true });
for (const name of FILES) copyFileSync(path.join(source, name), path.join(target, name));
console.log(`docs-ui: ${FILES.length} files of swagger-ui-dist ${require("swagger-ui-dist/package.json").version} copied`);
