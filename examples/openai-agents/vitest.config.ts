import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'example-openai-agents', environment: 'node', testTimeout: 30_000 } });
