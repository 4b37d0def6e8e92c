import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'langchain', environment: 'node', testTimeout: 30_000 } });
