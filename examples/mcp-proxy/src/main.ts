// Signoff in front of a registry MCP server, offline: see README.md.
import { runExample } from './run-example.js';

await runExample();
