import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'bench',
    environment: 'node',
    testTimeout: 60_000,
    // Works around a V8 crash in Node 20 (deoptimizing inlined JS→Wasm calls into cedar-wasm); see README.
    execArgv: ['--no-turbo-inline-js-wasm-calls'],
  },
});
