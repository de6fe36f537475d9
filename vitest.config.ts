import { configDefaults, defineConfig } from "vitest/config"

// Under Bun the suite runs on bun:sqlite; under Node.js on better-sqlite3 (which Bun cannot load). Each runtime
// collects only the files for the drivers it has, so nothing is skipped.
const isBun = typeof process.versions.bun === "string"

export default defineConfig({
  test: {
    include: ["test/**/*.test.{ts,js}"],
    // test/faults is its own suite (vitest.faults.config.ts, `npm run test:faults`).
    exclude: [
      ...configDefaults.exclude,
      "test/faults/**",
      isBun ? "test/**/*.node.test.{ts,js}" : "test/**/*.bun.test.{ts,js}"
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
