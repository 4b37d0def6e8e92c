import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'cli', environment: 'node', testTimeout: 30_000 } });
