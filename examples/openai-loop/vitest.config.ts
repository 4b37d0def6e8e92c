import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'example-openai-loop', environment: 'node', testTimeout: 30_000 } });
