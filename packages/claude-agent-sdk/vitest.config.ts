import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'claude-agent-sdk', environment: 'node', testTimeout: 60_000 } });
