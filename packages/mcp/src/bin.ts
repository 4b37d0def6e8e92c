#!/usr/bin/env node
import { runSignoffMcp } from './run-signoff-mcp.js';

process.exitCode = await runSignoffMcp(process.argv.slice(2));
