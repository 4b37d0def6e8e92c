import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'example-claude-agent', environment: 'node', testTimeout: 120_000 } });
