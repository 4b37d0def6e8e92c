import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'example-mastra-agent', environment: 'node', testTimeout: 30_000 } });
