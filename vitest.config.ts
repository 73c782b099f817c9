import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Real processes measure memory: keep parallelism modest on 2-core machines.
    maxWorkers: 2,
  },
});
