import type { BudgetNotice } from '../store/outbox-message.js';

/**
 * What reviewers are told, once per breach, when an agent hits its escalation budget: which agent,
 * which limit, and that its further calls are denied rather than sent to them.
 *
 * @example
 * budgetNoticeText({ agent: 'support-bot', budget: 'max_pending', limit: 5, count: 5, tool: 'refund', at }); // "Agent support-bot hit its escalation budget: …"
 */
export function budgetNoticeText(notice: BudgetNotice): string {
  const limit =
    notice.budget === 'max_pending'
      ? `${notice.count} requests already wait for review (max_pending ${notice.limit})`
      : `${notice.count} approval requests in the last hour (max_escalations_per_hour ${notice.limit})`;
  return `Agent ${notice.agent} hit its escalation budget: ${limit}. Its further calls that need approval (the first was ${notice.tool} at ${notice.at}) are denied without asking you until it is back under budget. You are told once per breach; every refusal is in the audit log.`;
}
