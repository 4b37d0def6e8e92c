import { Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, tool } from '@openai/agents';
import type { Signoff } from '@signoff/core';
import { vi } from 'vitest';
import { z } from 'zod';
import { withSignoff, type WithSignoffOptions } from '../with-signoff.js';
import type { Harness } from './harness.js';

export interface RunContextShape {
  readonly threadId: string;
}

/** The tools' implementations, as spies, so tests can see what ran and with which args. */
export function createExecutors() {
  return {
    get_invoice: vi.fn(async ({ id }: { id: string }) => JSON.stringify({ id, total: 42 })),
    send_payment: vi.fn(async ({ to, amount }: { to: string; amount: number }) => `paid ${amount} to ${to}`),
    wire_transfer: vi.fn(async ({ to }: { to: string }) => `wired to ${to}`),
    delete_account: vi.fn(async ({ id }: { id: string }) => `deleted ${id}`),
  };
}

export type Executors = ReturnType<typeof createExecutors>;

/**
 * A payments agent whose every tool is under Signoff, on the scripted server through the official
 * client — the Responses API by default (the SDK's default), or Chat Completions.
 */
export function createPaymentAgent(
  harness: Harness,
  signoff: Signoff,
  executors: Executors,
  options: WithSignoffOptions<RunContextShape> & { api?: 'responses' | 'chat' } = {},
): Agent<RunContextShape> {
  const model = options.api === 'chat' ? new OpenAIChatCompletionsModel(harness.openai, 'scripted') : new OpenAIResponsesModel(harness.openai, 'scripted');
  const tools = [
    tool({ name: 'get_invoice', description: 'Read an invoice', parameters: z.object({ id: z.string() }), execute: executors.get_invoice }),
    tool({ name: 'send_payment', description: 'Pay a vendor', parameters: z.object({ to: z.string(), amount: z.number() }), execute: executors.send_payment }),
    tool({ name: 'wire_transfer', description: 'Wire money', parameters: z.object({ to: z.string(), amount: z.number() }), execute: executors.wire_transfer }),
    tool({ name: 'delete_account', description: 'Delete an account', parameters: z.object({ id: z.string() }), execute: executors.delete_account }),
  ];
  return new Agent<RunContextShape>({
    name: 'Payments',
    instructions: 'You pay vendors.',
    model,
    tools: tools.map((each) => withSignoff(each, signoff, options)),
  });
}
