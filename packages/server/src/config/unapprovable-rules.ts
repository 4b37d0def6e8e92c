import type { Policy } from '@signoff/core';
import { quorumReached } from '../engine/quorum.js';
import type { ApiKey } from './server-config.js';
import type { Reviewer } from '../engine/reviewer.js';

/**
 * Escalation rules that some agent's requests can never satisfy, because the reviewers who could
 * approve them are that agent's owners (who may not approve its calls) or too few: a config and a
 * policy that look fine apart, but wait forever together. `signoff serve` prints these at startup.
 *
 * @example
 * for (const warning of unapprovableRules(policy, config.reviewers, config.apiKeys)) console.warn(warning);
 */
export function unapprovableRules(policy: Policy, reviewers: readonly Reviewer[], apiKeys: readonly ApiKey[]): string[] {
  const agents = apiKeys.filter((key) => key.kind === 'agent');
  return policy.rules.flatMap((rule) => {
    const requirements = rule.approval;
    if (rule.action !== 'escalate' || !requirements) return [];
    return agents.flatMap((agent) => {
      const approvers = reviewers.filter((reviewer) => !agent.owners.includes(reviewer.id));
      if (quorumReached(approvers, requirements)) return [];
      const why = approvers.length < reviewers.length ? ` (its owners ${agent.owners.join(', ')} may not approve its calls)` : '';
      const roles = requirements.approverRoles.length ? ` from ${requirements.approverRoles.join(', ')}` : '';
      return [`rule '${rule.id}' (line ${rule.location.line}) needs ${requirements.requiredApprovals} approval(s)${roles}: the reviewers can never give them to agent '${agent.name}'${why}; its requests will wait until they expire`];
    });
  });
}
