import OpenAI from 'openai';
import { runLoop } from './run-loop.js';

// A real model when OPENAI_API_KEY is set; otherwise the official client talks to a local scripted server.
const real = Boolean(process.env.OPENAI_API_KEY);
const api = process.argv.includes('--responses') ? 'responses' : 'chat';
console.log(`Signoff × OpenAI (raw tool loop) — payments/email agent (${real ? 'OpenAI' : 'scripted model, offline; set OPENAI_API_KEY for OpenAI'})`);
await runLoop({
  api,
  manual: process.argv.includes('--manual'),
  ...(real ? { client: new OpenAI(), model: process.env.OPENAI_MODEL ?? 'gpt-4o-mini' } : {}),
});
