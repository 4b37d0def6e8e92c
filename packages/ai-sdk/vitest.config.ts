import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'ai-sdk', environment: 'node', testTimeout: 30_000 } });
