import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'mastra', environment: 'node', testTimeout: 30_000 } });
