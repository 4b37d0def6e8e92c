import { fileURLToPath } from 'node:url';
import { AIMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import type { BaseCheckpointSaver } from '@langchain/langgraph';
import type { Signoff } from '@signoff/core';
import { createAgent } from 'langchain';
import { z } from 'zod';
import { signoffMiddleware } from '../signoff-middleware.js';
import { wrapTool } from '../wrap-tool.js';

export const policyFile = fileURLToPath(new URL('./payments-policy.yaml', import.meta.url));

export interface Payment {
  readonly tool: string;
  readonly to: string;
  readonly amount: number;
}

const TOOL_NAMES = ['send_payment', 'wire_transfer', 'delete_account', 'create_refund'] as const;

/** Payment tools that record what actually ran into `ran`. */
function paymentTool(name: string, ran: Payment[]) {
  return tool(
    async ({ to, amount }) => {
      ran.push({ tool: name, to, amount });
      return `${name}: ${amount} to ${to} done`;
    },
    { name, description: `${name} to a vendor`, schema: z.object({ to: z.string(), amount: z.number() }) },
  );
}

export type ScriptedCall = { name: string; args: { to: string; amount: number }; id: string };

/**
 * A scripted tool-calling model: the first turn asks for `calls` (all in one message, so they run
 * as parallel tool calls), every later turn answers with text.
 */
export function scriptedModel(calls: readonly ScriptedCall[]) {
  const model = fakeModel();
  if (calls.length > 0) model.respondWithTools([...calls]);
  return model.respond(new AIMessage('Done.')).respond(new AIMessage('Done again.'));
}

export interface PaymentsAgentOptions {
  readonly signoff: Signoff;
  readonly calls: readonly ScriptedCall[];
  /** Absent: an agent without one (escalations cannot pause). */
  readonly checkpointer?: BaseCheckpointSaver;
  /** Wrap each tool with `wrapTool` (the tool-level gate that claims itself); default false. */
  readonly gated?: boolean;
  /** Install `signoffMiddleware`; default true (false: a misconfigured or hook-ignoring setup). */
  readonly middleware?: boolean;
}

/** A `createAgent` payments agent gated by `signoffMiddleware`; `ran` lists the payments that really ran. */
export function createPaymentsAgent(options: PaymentsAgentOptions) {
  const ran: Payment[] = [];
  const tools = TOOL_NAMES.map((name) => paymentTool(name, ran));
  const agent = createAgent({
    model: scriptedModel(options.calls),
    tools: options.gated ? tools.map((unwrapped) => wrapTool(unwrapped, options.signoff)) : tools,
    ...(options.checkpointer ? { checkpointer: options.checkpointer } : {}),
    middleware: options.middleware === false ? [] : [signoffMiddleware(options.signoff, { inboxUrl: 'https://signoff.test/inbox/{id}' })],
  });
  return { agent, ran };
}
