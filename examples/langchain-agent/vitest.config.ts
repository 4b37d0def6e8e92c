import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'example-langchain-agent', environment: 'node', testTimeout: 30_000 } });
