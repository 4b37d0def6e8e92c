import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'example-demo', environment: 'node', testTimeout: 60_000 } });
