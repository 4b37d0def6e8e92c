/**
 * The README's useChat recipe, minus React: the two routes run for real, and the client side is the
 * state change `useChat`'s `addToolApprovalResponse` makes, followed by its automatic resend.
 */
import {
  convertToModelMessages,
  isToolUIPart,
  lastAssistantMessageIsCompleteWithApprovalResponses,
  readUIMessageStream,
  stepCountIs,
  streamText,
  toUIMessageStream,
  type UIMessage,
} from 'ai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { callId, pendingRequest, startPaymentsWorld, type PaymentsWorld } from './__fixtures__/payments.js';
import { scriptedModel } from './testing/index.js';
import type { SignoffAiSdkOptions } from './get-tool-call-verdict.js';
import { resolveApprovals } from './resolve-approvals.js';
import { signoffToolApproval } from './signoff-tool-approval.js';
import { withSignoff } from './with-signoff.js';

let world: PaymentsWorld;
beforeAll(async () => {
  world = await startPaymentsWorld();
});
afterAll(async () => {
  await world.controlPlane.close();
});

it('pauses in the chat UI, resolves through the approvals route, and resumes through the chat route', async () => {
  const chatId = callId('chat');
  const options: SignoffAiSdkOptions = { idempotencyKey: (toolCall) => `${chatId}:${toolCall.toolCallId}` };
  const toolCallId = callId('call');
  const model = scriptedModel([{ toolCalls: [{ id: toolCallId, name: 'payment_send', input: { to: 'acme', amount: 250 } }] }, { text: 'Paid.' }, { text: 'Already paid.' }]);

  // app/api/chat/route.ts
  async function chatRoute(messages: UIMessage[]): Promise<UIMessage> {
    const result = streamText({
      model,
      tools: withSignoff(world.tools, world.signoff, { ...options, wait: false }),
      messages: await convertToModelMessages(messages),
      toolApproval: signoffToolApproval(world.signoff, options),
      stopWhen: stepCountIs(5),
    });
    const last = messages.at(-1);
    let message: UIMessage | undefined;
    for await (const update of readUIMessageStream({ ...(last?.role === 'assistant' ? { message: last } : {}), stream: toUIMessageStream({ stream: result.stream }) })) message = update;
    if (!message) throw new Error('no assistant message');
    return message;
  }
  // app/api/chat/approvals/route.ts
  async function approvalsRoute(messages: UIMessage[]) {
    const { responses, pending } = await resolveApprovals(await convertToModelMessages(messages), world.signoff, { ...options, wait: { timeoutMs: 1_000 }, inboxUrl: 'https://signoff.test/inbox/{id}' });
    return { responses, pending: pending.map(({ approvalId, inboxUrl }) => ({ approvalId, inboxUrl })) };
  }

  const user: UIMessage = { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Pay acme $250' }] };
  let messages: UIMessage[] = [user, await chatRoute([user])];
  const paused = messages[1]!.parts.find(isToolUIPart);
  expect(paused).toMatchObject({ state: 'approval-requested', approval: { requestReason: 'Payments over $100 require approval (250 to acme)' } });

  const waiting = await approvalsRoute(messages);
  expect(waiting.responses).toEqual([]);
  expect(waiting.pending).toEqual([{ approvalId: (paused as { approval: { id: string } }).approval.id, inboxUrl: expect.stringMatching(/^https:\/\/signoff\.test\/inbox\/apr_/) }]);

  await world.controlPlane.decide((await pendingRequest(world, `${chatId}:${toolCallId}`)).id, 'ana', 'approve');
  const decided = await approvalsRoute(messages);
  expect(decided.responses).toEqual([expect.objectContaining({ approved: true })]);

  // The client: addToolApprovalResponse for each verdict, then the automatic resend.
  for (const response of decided.responses) {
    messages = messages.map((message) => ({
      ...message,
      parts: message.parts.map((part) =>
        isToolUIPart(part) && part.state === 'approval-requested' && part.approval.id === response.approvalId
          ? { ...part, state: 'approval-responded' as const, approval: { ...part.approval, approved: response.approved, ...(response.reason ? { reason: response.reason } : {}) } }
          : part,
      ),
    })) as UIMessage[];
  }
  expect(lastAssistantMessageIsCompleteWithApprovalResponses({ messages })).toBe(true);
  const approvedHistory = JSON.stringify(messages);
  const resumed = await chatRoute(messages);
  expect(resumed.parts.find(isToolUIPart)).toMatchObject({ state: 'output-available', output: { ok: true } });
  expect(world.executed).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 250 } }]);

  // The client resends the same approved history (a retry, a second tab): nothing runs twice.
  const resent = await chatRoute(JSON.parse(approvedHistory) as UIMessage[]);
  expect(resent.parts.find(isToolUIPart)).toMatchObject({ state: 'output-denied' });
  expect(world.executed).toHaveLength(1);
});
