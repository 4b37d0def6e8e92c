export { applyDecision, type DecisionEnvironment, type DecisionInput, type DecisionOutcome, type RefusalCode } from './engine/apply-decision.js';
export { expireIfOverdue } from './engine/expire-if-overdue.js';
export { openApprovalRequest, type ApprovalRequestInput, type OpenRequestEnvironment } from './engine/open-approval-request.js';
export { isEligible, quorumReached } from './engine/quorum.js';
export type { Reviewer } from './engine/reviewer.js';
export { GENESIS_HASH, sealAuditEntry, verifyAuditChain, type AuditBreak } from './audit/audit-chain.js';
export type { AuditEntry, AuditEventInput, AuditEventType } from './audit/audit-event.js';
export { openSqliteStore } from './store/sqlite-store.js';
export type { ApprovalFilter, RequestChange, Store } from './store/store.js';
