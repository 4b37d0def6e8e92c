import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'example-mcp-proxy', environment: 'node', testTimeout: 120_000 } });
