import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'openai', environment: 'node', testTimeout: 30_000 } });
