import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // Integration files each create their own database; two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
