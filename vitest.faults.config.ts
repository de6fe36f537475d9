import { configDefaults, defineConfig } from "vitest/config"

// The fault, load and property suite (`npm run test:faults`): real processes, real servers, long runs. Its files run
// one after another so that a load test does not starve a timing-sensitive fault test on a small machine.
const isBun = typeof process.versions.bun === "string"

export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.{ts,js}"],
    exclude: [...configDefaults.exclude, isBun ? "test/**/*.node.test.{ts,js}" : "test/**/*.bun.test.{ts,js}"],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000
  }
})
