import { runAgent } from './run-agent.js';

console.log('Signoff × Claude Agent SDK — coding agent (scripted API offline; Claude when ANTHROPIC_API_KEY is set)');
await runAgent();
