import type { LanguageModel } from 'ai';
import { runAgent } from './run-agent.js';

/** OpenAI when a key is set (loaded only then: @ai-sdk/openai declares Node >= 22), else the scripted model. */
async function chooseModel(): Promise<LanguageModel | undefined> {
  if (!process.env.OPENAI_API_KEY) return undefined;
  const { openai } = await import('@ai-sdk/openai');
  return openai(process.env.OPENAI_MODEL ?? 'gpt-4o-mini');
}

const model = await chooseModel();
console.log(`Signoff × AI SDK — payments/email agent (${model ? 'OpenAI' : 'scripted model, offline; set OPENAI_API_KEY for OpenAI'})`);
await runAgent({ ...(model ? { model } : {}), manual: process.argv.includes('--manual') });
