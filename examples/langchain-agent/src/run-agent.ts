import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { MemorySaver } from '@langchain/langgraph';
import { createSignoff } from '@signoff/core';
import { isSignoffInterrupt, resumeWhenDecided, signoffMiddleware, wrapTool, type SignoffInterrupt } from '@signoff/langchain';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { createAgent } from 'langchain';
import { createScriptedModel } from './scripted-model.js';
import { createTools, type Executed } from './tools.js';

export const POLICY_FILE = fileURLToPath(new URL('../policy.yaml', import.meta.url));
export const REQUEST = 'Pay invoice inv_1042, email the remittance advice to the vendor, and remove the old vendor globex.';

export interface RunAgentOptions {
  /** A tool-calling chat model; default: the offline scripted one. */
  readonly model?: BaseChatModel;
  /** Print how to decide (curl) and wait for a human instead of the scripted reviewers. */
  readonly manual?: boolean;
  readonly print?: (line: string) => void;
}

export interface RunOutcome {
  /** Tool calls that really executed, in order, with the args they ran with. */
  readonly executed: readonly Executed[];
  /** Tool calls that were not run, with the reason the model was given. */
  readonly refused: ReadonlyArray<{ readonly tool: string; readonly reason: string }>;
  /** Every pause: the approval request and where it stands once the run is over (`executed` once its call ran). */
  readonly approvals: ReadonlyArray<SignoffInterrupt & { readonly status: string }>;
  /** What the model was told when the last resume was replayed from the same saved state. */
  readonly replayed: ReadonlyArray<{ readonly tool: string; readonly reason: string }>;
  /** The agent's final answer. */
  readonly answer: string;
}

/**
 * Runs the payments/email agent against a local control plane: allowed calls run, the denied one is
 * refused, the escalated ones pause with an interrupt until reviewers decide, then the run resumes.
 * Then it resumes the same saved state once more, as a webhook delivered twice would: the approved
 * payment does not run again (an approval is a single-use grant).
 */
export async function runAgent(options: RunAgentOptions = {}): Promise<RunOutcome> {
  const print = options.print ?? console.log;
  const controlPlane = await startLocalControlPlane({ policy: POLICY_FILE });
  try {
    const signoff = createSignoff({ policy: POLICY_FILE, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const executed: Executed[] = [];
    const agent = createAgent({
      model: options.model ?? createScriptedModel(),
      tools: createTools(executed).map((tool) => wrapTool(tool, signoff)), // each tool checks and claims its own approval
      systemPrompt: 'You pay vendor invoices and email vendors. Use the tools; when a tool call is refused, say why and move on.',
      checkpointer: new MemorySaver(), // use SqliteSaver / PostgresSaver to survive restarts
      middleware: [signoffMiddleware(signoff)],
    });
    const config = { configurable: { thread_id: randomUUID() } };
    const approvals: (SignoffInterrupt & { status: string })[] = [];

    print(`control plane ${controlPlane.url} · policy ${POLICY_FILE}`);
    print(`user: ${REQUEST}`);
    let result = await agent.invoke({ messages: [{ role: 'user', content: REQUEST }] }, config);
    let seen = printToolResults(result.messages, 0, print);
    // Where the last resume started from (the paused checkpoint) and how many messages it had.
    let lastPause: { checkpointId: string | undefined; seen: number } = { checkpointId: undefined, seen };
    for (;;) {
      const pauses = (result.__interrupt__ ?? []).map((pause) => pause.value).filter(isSignoffInterrupt);
      if (pauses.length === 0) break;
      print(`⏸  paused: ${pauses.length} tool call(s) wait for approval`);
      for (const pause of pauses) {
        const roles = pause.approverRoles.length > 0 ? pause.approverRoles.join(' + ') : 'any reviewer';
        print(`   ${pause.approvalId}  ${pause.tool} ${JSON.stringify(pause.args)}`);
        print(`     ${pause.reason} — needs ${pause.requiredApprovals} approval(s) from ${roles}`);
        if (options.manual) printHowToDecide(controlPlane, pause, print);
        else await scriptedReview(controlPlane, pause, print);
      }
      if (options.manual) print('   waiting for the decisions (long-poll)…');
      lastPause = { checkpointId: (await agent.graph.getState(config)).config.configurable?.checkpoint_id as string | undefined, seen };
      result = await resumeWhenDecided(agent, config);
      print('▶  resumed');
      for (const pause of pauses) approvals.push({ ...pause, status: (await signoff.getApproval(pause.approvalId)).status });
      seen = printToolResults(result.messages, seen, print);
    }
    const answer = String(result.messages.at(-1)?.content ?? '');
    print(`agent: ${answer}`);
    const refused = refusals(result.messages);

    let replayed: RunOutcome['replayed'] = [];
    if (lastPause.checkpointId !== undefined) {
      print('↻  the last resume again, from the same saved state (as a webhook delivered twice would)');
      const replay = await resumeWhenDecided(agent, { configurable: { ...config.configurable, checkpoint_id: lastPause.checkpointId } });
      printToolResults(replay.messages, lastPause.seen, print);
      replayed = refusals(replay.messages.slice(lastPause.seen));
    }
    return { executed, refused, approvals, replayed, answer };
  } finally {
    await controlPlane.close();
  }
}

/** The reviewers of this story: finance and the engineering lead approve the payment; security turns the email down. */
async function scriptedReview(controlPlane: LocalControlPlane, pause: SignoffInterrupt, print: (line: string) => void): Promise<void> {
  const verdicts: Array<[reviewer: string, verdict: 'approve' | 'deny', comment?: string]> =
    pause.tool === 'send_payment' ? [['ana', 'approve'], ['lee', 'approve']] : [['sam', 'deny', 'Remittance advice goes out from the billing system, not from the agent']];
  for (const [reviewer, verdict, comment] of verdicts) {
    await controlPlane.decide(pause.approvalId, reviewer, verdict, comment ? { comment } : {});
    print(`     reviewer ${reviewer}: ${verdict}${comment ? ` ("${comment}")` : ''}`);
  }
}

function printHowToDecide(controlPlane: LocalControlPlane, pause: SignoffInterrupt, print: (line: string) => void): void {
  const eligible = controlPlane.reviewers.filter((reviewer) => pause.approverRoles.length === 0 || reviewer.roles.some((role) => pause.approverRoles.includes(role)));
  for (const reviewer of eligible) {
    print(`     as ${reviewer.id}: curl -s -X POST ${controlPlane.url}/v1/approvals/${pause.approvalId}/decision \\`);
    print(`       -H 'authorization: Bearer ${controlPlane.reviewerKey(reviewer.id)}' -H 'content-type: application/json' -d '{"verdict":"approve"}'`);
  }
}

function toolMessages(messages: readonly BaseMessage[]): ToolMessage[] {
  return messages.filter((message): message is ToolMessage => ToolMessage.isInstance(message));
}

function refusals(messages: readonly BaseMessage[]): Array<{ tool: string; reason: string }> {
  return toolMessages(messages).filter((message) => message.status === 'error').map((message) => ({ tool: message.name ?? '?', reason: String(message.content) }));
}

/** Prints tool results after the first `from` messages; returns how many messages have been seen. */
function printToolResults(messages: readonly BaseMessage[], from: number, print: (line: string) => void): number {
  for (const message of toolMessages(messages.slice(from))) {
    print(`${message.status === 'error' ? '✗  refused' : '✓  ran    '} ${message.name}: ${String(message.content)}`);
  }
  return messages.length;
}
