import { runAgent } from './run-agent.js';

// A real model when OPENAI_API_KEY is set (the SDK's default OpenAI client); otherwise a local scripted server.
const model = process.env.OPENAI_API_KEY ? (process.env.OPENAI_MODEL ?? 'gpt-4o-mini') : undefined;
console.log(`Signoff × OpenAI Agents SDK — payments/email agent (${model ? `OpenAI ${model}` : 'scripted model, offline; set OPENAI_API_KEY for OpenAI'})`);
await runAgent({ ...(model ? { model } : {}), manual: process.argv.includes('--manual') });
