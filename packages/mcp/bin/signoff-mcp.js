#!/usr/bin/env node
// Inside the workspace the proxy runs from its TypeScript sources through tsx; the published
// package's `bin` points at the compiled dist/bin.js instead (see publishConfig).
import { register } from 'tsx/esm/api';

register();
const { runSignoffMcp } = await import('../src/run-signoff-mcp.ts');
// Exit explicitly: stdin (the client's pipe) may still be open when the upstream server died.
process.exit(await runSignoffMcp(process.argv.slice(2)));
