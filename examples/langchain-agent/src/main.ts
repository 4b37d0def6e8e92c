import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { runAgent } from './run-agent.js';

/** OpenAI when a key is set (loaded only then: @langchain/openai declares Node >= 22), else the scripted model. */
async function chooseModel(): Promise<BaseChatModel | undefined> {
  if (!process.env.OPENAI_API_KEY) return undefined;
  const { ChatOpenAI } = await import('@langchain/openai');
  return new ChatOpenAI({ model: process.env.OPENAI_MODEL ?? 'gpt-4o-mini', temperature: 0 });
}

const model = await chooseModel();
console.log(`Signoff × LangChain — payments/email agent (${model ? 'OpenAI' : 'scripted model, offline; set OPENAI_API_KEY for OpenAI'})`);
await runAgent({ ...(model ? { model } : {}), manual: process.argv.includes('--manual') });
