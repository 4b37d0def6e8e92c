import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'example-ai-sdk-agent', environment: 'node', testTimeout: 30_000 } });
