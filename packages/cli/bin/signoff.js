#!/usr/bin/env node
// Inside the workspace the CLI runs from its TypeScript sources through tsx; the published
// package's `bin` points at the compiled dist/bin.js instead (see publishConfig).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
