import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createSignoff, type ApprovalRequest, type Signoff } from '@signoff/core';
import { gateToolCalls, resumeToolCalls, runToolLoop, type PausedToolCalls, type PausedToolLoop, type ResponsesToolAnswer, type ToolCallRecord } from '@signoff/openai';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import OpenAI from 'openai';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { startScriptedOpenAIServer, toolResults, type ScriptedOpenAIServer } from '@signoff/openai/testing';
import { chatTools, createHandlers, responsesTools, type Executed } from './tools.js';

export const POLICY_FILE = fileURLToPath(new URL('../policy.yaml', import.meta.url));
export const REQUEST = 'Pay invoice inv_1042, email the remittance advice to the vendor, and remove the old vendor globex.';
const INSTRUCTIONS = 'You pay vendor invoices and email vendors. Use the tools; when a tool call is refused, say why and move on.';

export interface RunLoopOptions {
  /** An OpenAI client for a real model; default: the official client against the offline scripted server. */
  readonly client?: OpenAI;
  readonly model?: string;
  /** `chat` (default): `runToolLoop` over Chat Completions. `responses`: a hand-written Responses API loop with `gateToolCalls`. */
  readonly api?: 'chat' | 'responses';
  /** Print how to decide (curl) and wait for a human instead of the scripted reviewers. */
  readonly manual?: boolean;
  readonly print?: (line: string) => void;
}

export interface LoopOutcome {
  /** Tool calls that really executed, in order, with the args they ran with. */
  readonly executed: readonly Executed[];
  /** Tool calls that were not run, with the reason the model was given. */
  readonly refused: ReadonlyArray<{ readonly tool: string; readonly reason: string }>;
  /** Every approval request, as the control plane finally decided it (a used one is `executed`). */
  readonly approvals: readonly ApprovalRequest[];
  readonly answer: string;
  /** The escalated calls when the stored paused state is resumed once more (a retried webhook): none runs again. */
  readonly replayed: ReadonlyArray<{ readonly tool: string; readonly status: string; readonly reason: string }>;
}

/**
 * Runs the payments/email story against a local control plane: allowed calls run, the denied one is
 * answered with the policy's reason, escalated ones pause the loop; reviewers decide; the paused
 * state is stored as JSON, a "restarted" process resumes it with a new Signoff client. Then the same
 * stored state is resumed once more, as a retried webhook would: the approved payment does not run
 * again — an approval runs its call once.
 */
export async function runLoop(options: RunLoopOptions = {}): Promise<LoopOutcome> {
  const print = options.print ?? console.log;
  const controlPlane = await startLocalControlPlane({ policy: POLICY_FILE });
  const scripted = options.client ? undefined : await startScriptedOpenAIServer();
  try {
    if (scripted) scriptTheModel(scripted);
    const client = options.client ?? new OpenAI({ baseURL: scripted?.baseURL, apiKey: 'offline', maxRetries: 0 });
    const connect = (): Signoff => createSignoff({ policy: POLICY_FILE, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const story: Story = { client, model: options.model ?? 'scripted', connect, controlPlane, manual: options.manual ?? false, print, executed: [], calls: [], stored: [] };
    print(`control plane ${controlPlane.url} · policy ${POLICY_FILE} · ${options.api === 'responses' ? 'Responses API' : 'Chat Completions'}`);
    print(`user: ${REQUEST}`);
    const answer = options.api === 'responses' ? await responsesLoop(story) : await chatLoop(story);
    print(`agent: ${answer}`);
    const replayed = await replayStoredState(story);
    const signoff = connect();
    const approvalIds = story.calls.flatMap((call) => (call.status !== 'pending' && call.approvalId ? [call.approvalId] : []));
    return {
      executed: story.executed,
      refused: story.calls.filter((call) => call.status === 'denied' || call.status === 'failed').map(({ tool, reason }) => ({ tool, reason })),
      approvals: await Promise.all(approvalIds.map((id) => signoff.getApproval(id))),
      answer,
      replayed,
    };
  } finally {
    await Promise.all([controlPlane.close(), scripted?.close()]);
  }
}

interface Story {
  readonly client: OpenAI;
  readonly model: string;
  readonly connect: () => Signoff;
  readonly controlPlane: LocalControlPlane;
  readonly manual: boolean;
  readonly print: (line: string) => void;
  readonly executed: Executed[];
  /** Every settled call, in order. */
  readonly calls: ToolCallRecord[];
  /** Every paused batch as it was stored (JSON), in order. */
  readonly stored: string[];
}

/** Chat Completions: `runToolLoop` does the loop; a pause comes back as JSON, and `resume` picks it up. */
async function chatLoop(story: Story): Promise<string> {
  const settings = { client: story.client, tools: createHandlers(story.executed), runId: randomUUID(), request: { model: story.model, tools: chatTools } };
  let result = await runToolLoop({ ...settings, signoff: story.connect(), messages: [{ role: 'system', content: INSTRUCTIONS }, { role: 'user', content: REQUEST }] });
  for (;;) {
    report(story, result.calls);
    if (result.status === 'complete') return result.message.content ?? '';
    await review(story, result.pending);
    const stored = JSON.stringify(result.state); // all a paused loop is: the messages and the paused batch
    story.stored.push(JSON.stringify(result.state.toolCalls));
    story.print(`▶  resuming from ${stored.length} bytes of JSON with a new Signoff client (as after a restart)`);
    result = await runToolLoop({ ...settings, signoff: story.connect(), mode: story.manual ? 'block' : 'pause', resume: JSON.parse(stored) as PausedToolLoop });
  }
}

/** The Responses API by hand: `gateToolCalls(response.output)`, and `resumeToolCalls` after a pause. */
async function responsesLoop(story: Story): Promise<string> {
  const tools = createHandlers(story.executed);
  const runId = randomUUID();
  let input: ResponseInputItem[] = [{ role: 'user', content: REQUEST }];
  for (let turn = 0; turn < 10; turn += 1) {
    const response = await story.client.responses.create({ model: story.model, instructions: INSTRUCTIONS, input, tools: responsesTools });
    input.push(...(response.output as ResponseInputItem[]));
    if (!response.output.some((item) => item.type === 'function_call')) return response.output_text;
    let gate = await gateToolCalls(response.output, { signoff: story.connect(), tools, runId });
    while (gate.status === 'paused') {
      report(story, gate.calls);
      await review(story, gate.pending);
      const stored = JSON.stringify({ input, paused: gate.state }); // all a paused loop is: the input items and the paused batch
      story.stored.push(JSON.stringify(gate.state));
      story.print(`▶  resuming from ${stored.length} bytes of JSON with a new Signoff client (as after a restart)`);
      const restored = JSON.parse(stored) as { input: ResponseInputItem[]; paused: PausedToolCalls<ResponsesToolAnswer> };
      input = restored.input;
      gate = await resumeToolCalls(restored.paused, { signoff: story.connect(), tools, wait: story.manual });
    }
    report(story, gate.calls);
    input.push(...gate.messages);
  }
  throw new Error('the model was still calling tools after 10 turns');
}

/**
 * Resumes the last stored paused batch once more, with a new client, as a retried webhook or a second
 * worker would: the approval was used when the payment ran, so the call is answered "already used".
 */
async function replayStoredState(story: Story): Promise<LoopOutcome['replayed']> {
  const last = story.stored.at(-1);
  if (last === undefined) return [];
  story.print('↺  resuming the same stored state again (a retried webhook, a second worker)');
  const replay = await resumeToolCalls(JSON.parse(last) as PausedToolCalls, { signoff: story.connect(), tools: createHandlers(story.executed) });
  const escalated = replay.calls.filter((call) => call.approvalId !== undefined);
  for (const call of escalated) story.print(`${call.status === 'ran' ? '✓  ran    ' : '✗  refused'} ${call.tool}: ${call.reason}`);
  return escalated.map(({ tool, status, reason }) => ({ tool, status, reason }));
}

/** Prints each call once it is settled (a resumed batch repeats the calls answered before the pause). */
function report(story: Story, calls: readonly ToolCallRecord[]): void {
  for (const call of calls) {
    if (call.status === 'pending' || story.calls.some((seen) => seen.callId === call.callId)) continue;
    story.calls.push(call);
    const output = call.answer && 'content' in call.answer ? call.answer.content : call.answer?.output;
    story.print(call.status === 'ran' ? `✓  ran     ${call.tool}: ${String(output)}` : `✗  refused ${call.tool}: ${call.reason}`);
  }
}

async function review(story: Story, pending: readonly ToolCallRecord[]): Promise<void> {
  story.print(`⏸  paused: ${pending.length} tool call(s) wait for approval`);
  const signoff = story.connect();
  for (const call of pending) {
    const approval = await signoff.getApproval(call.approvalId as string);
    const { requiredApprovals, approverRoles } = approval.requirements;
    story.print(`   ${approval.id}  ${call.tool} ${JSON.stringify(call.args)}`);
    story.print(`     ${approval.reason} — needs ${requiredApprovals} approval(s) from ${approverRoles.length > 0 ? approverRoles.join(' + ') : 'any reviewer'}`);
    if (story.manual) printHowToDecide(story, approval);
    else await scriptedReview(story, approval);
  }
  if (story.manual) story.print('   waiting for the decisions (long-poll)…');
}

/** The reviewers of this story: finance and the engineering lead approve the payment; security turns the email down. */
async function scriptedReview(story: Story, approval: ApprovalRequest): Promise<void> {
  const verdicts: Array<[reviewer: string, verdict: 'approve' | 'deny', comment?: string]> =
    approval.tool === 'send_payment' ? [['ana', 'approve'], ['lee', 'approve']] : [['sam', 'deny', 'Remittance advice goes out from the billing system, not from the agent']];
  for (const [reviewer, verdict, comment] of verdicts) {
    await story.controlPlane.decide(approval.id, reviewer, verdict, comment ? { comment } : {});
    story.print(`     reviewer ${reviewer}: ${verdict}${comment ? ` ("${comment}")` : ''}`);
  }
}

function printHowToDecide(story: Story, approval: ApprovalRequest): void {
  const roles = approval.requirements.approverRoles;
  for (const reviewer of story.controlPlane.reviewers.filter((each) => roles.length === 0 || each.roles.some((role) => roles.includes(role)))) {
    story.print(`     as ${reviewer.id}: curl -s -X POST ${story.controlPlane.url}/v1/approvals/${approval.id}/decision \\`);
    story.print(`       -H 'authorization: Bearer ${story.controlPlane.reviewerKey(reviewer.id)}' -H 'content-type: application/json' -d '{"verdict":"approve"}'`);
  }
}

/** The offline model: reads the invoice and tries to delete a vendor, then pays and emails in one turn, then sums up. */
function scriptTheModel(server: ScriptedOpenAIServer): void {
  server.script(
    { toolCalls: [{ name: 'get_invoice', arguments: { id: 'inv_1042' } }, { name: 'delete_vendor', arguments: { vendor: 'globex' } }] },
    {
      toolCalls: [
        { name: 'send_payment', arguments: { to: 'acme-supplies', amount: 1250, currency: 'USD', reference: 'inv_1042' } },
        { name: 'send_email', arguments: { to: 'billing@acme-supplies.com', subject: 'Remittance advice for inv_1042', body: 'We paid 1250 USD for inv_1042.' } },
      ],
    },
    {
      text: (request) =>
        toolResults(request)
          .slice(2)
          .map(({ name, output }) => `${name}: ${output.replace(/^Tool call denied: /, 'not done — ')}`)
          .join('\n'),
    },
  );
}
