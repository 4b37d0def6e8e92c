import { runAgent } from './run-agent.js';

console.log('Signoff × Mastra — payments agent (scripted model, offline)');
await runAgent();
