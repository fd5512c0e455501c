import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

// The build goes straight into the Python package, which serves it at / (and ships it in the wheel).
const outDir = fileURLToPath(new URL("../backend/procedo/web", import.meta.url));

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    // `npm run dev` talks to a `procedo serve` on :8000
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
