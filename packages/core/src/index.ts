export type { ApprovalRequirements } from './spec/approval-requirements.js';
export type { Condition } from './spec/condition.js';
export type { ConditionOperator } from './spec/condition-operator.js';
export type { Decision } from './spec/decision.js';
export type { DecisionAction } from './spec/decision-action.js';
export type { Policy } from './spec/policy.js';
export type { PolicyMatch } from './spec/policy-match.js';
export type { PolicyRule } from './spec/policy-rule.js';
export type { Receipt } from './spec/receipt.js';
export type { SourceLocation } from './spec/source-location.js';
export type { ToolCall } from './spec/tool-call.js';
export type { HistoryWindow } from './spec/history-window.js';
export type { RecordedCall } from './spec/recorded-call.js';

export { PolicyError, formatPolicyIssue, type PolicyIssue } from './errors/policy-error.js';
export { SignoffError, type SignoffErrorCode } from './errors/signoff-error.js';
export { findSignoffError } from './errors/find-signoff-error.js';

export { canonicalJson } from './canonical-json.js';
export { hashArgs } from './hash-args.js';
export { findInstalledPackage, readInstalledVersion, type InstalledPackage } from './find-installed-package.js';

export { compilePolicy, type CompiledPolicy } from './policy/compile-policy.js';
export { historyLabel, type HistoryCondition, type HistoryFacts } from './policy/compile-history.js';
export { gatherHistoryFacts, historyKey, historyKeysOf, type HistoryQuery, type HistoryReader } from './policy/gather-history-facts.js';
export { createMemoryHistory, type MemoryHistory } from './policy/memory-history.js';
export { replayPolicy, type ReplayFlip, type ReplayReport } from './policy/replay-policy.js';
export { DEFAULT_HISTORY_RETENTION_MS, formatDuration, parseDuration } from './policy/history-syntax.js';
export { conditionPaths } from './policy/condition-paths.js';
export {
  explainDecision,
  type ConditionOutcome,
  type ConditionTrace,
  type Explanation,
  type ExplainOptions,
  type ShadowOutcome,
  type RuleTrace,
} from './policy/explain-decision.js';
export { lintPolicy, type LintCode, type LintOptions, type LintWarning } from './policy/lint-policy.js';
export { loadPolicy } from './policy/load-policy.js';
export { parsePolicy, type ParsePolicyOptions, type PolicyReviewer } from './policy/parse-policy.js';

export { createGuard, type CreateGuardOptions, type Guard, type GuardCallOptions } from './guard/create-guard.js';

export {
  validateYaml,
  type UnlocatedIssue,
  type ValidateYamlOptions,
  type ValidateYamlResult,
  type YamlIssue,
  type YamlPath,
} from './yaml/validate-yaml.js';
export { strictMapping } from './yaml/strict-mapping.js';

export type { ApprovalChannel } from './spec/approval-channel.js';
export type { ApprovalRequest } from './spec/approval-request.js';
export type { ApprovalStatus } from './spec/approval-status.js';
export type { ExecutionClaim } from './spec/execution-claim.js';
export type { ReviewerDecision } from './spec/reviewer-decision.js';

export {
  createSignoff,
  type Authorization,
  type ExecutionGrant,
  type GuideApprovalRequest,
  type RequestApprovalOptions,
  type Signoff,
  type SignoffOptions,
  type WaitOptions,
} from './client/create-signoff.js';
export { createControlPlaneClient, type ControlPlaneClient, type ControlPlaneOptions, type CreateApprovalBody } from './client/control-plane-client.js';
export { checkApproval, type ApprovalCheck } from './client/check-approval.js';
export { verifyWebhook, type ApprovalWebhookEvent } from './client/verify-webhook.js';
export { createReviewerClient, type ReviewerClient, type ReviewerClientOptions, type ReviewerListFilter } from './client/create-reviewer-client.js';
