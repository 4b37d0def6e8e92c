#!/usr/bin/env node
import { runSignoffMcp } from './run-signoff-mcp.js';

// Exit explicitly: stdin (the client's pipe) may still be open when the upstream server died.
process.exit(await runSignoffMcp(process.argv.slice(2)));
