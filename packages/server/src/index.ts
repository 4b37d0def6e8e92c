export { applyDecision, type DecisionEnvironment, type DecisionInput, type DecisionOutcome, type RefusalCode } from './engine/apply-decision.js';
export { expireIfOverdue } from './engine/expire-if-overdue.js';
export { openApprovalRequest, type ApprovalRequestInput, type OpenRequestEnvironment } from './engine/open-approval-request.js';
export { isEligible, quorumReached } from './engine/quorum.js';
export type { Reviewer } from './engine/reviewer.js';
export { createAuditChainVerifier, entryHashMatches, GENESIS_HASH, readAuditPages, sealAuditEntry, verifyAuditChain, type AuditBreak } from './audit/audit-chain.js';
export type { AuditEntry, AuditEventInput, AuditEventType } from './audit/audit-event.js';
export { checkExpectedHead, type AuditHead } from './audit/audit-head.js';
export { checkRequestRow, type RequestRowCheck, type StateEvidence } from './audit/check-request-row.js';
export { compareRequestStates, compareRowsWithStates, noteState, type NewestStates, type RequestStateMismatch } from './audit/compare-request-states.js';
export { hashRequestState } from './audit/hash-request-state.js';
export { openSqliteStore } from './store/sqlite-store.js';
export type { ActionableQuery, ApprovalFilter, ArchivePlan, Lease, ListOrder, RequestChange, Store } from './store/store.js';
export type { StoredRequestState } from './store/stored-request-state.js';
export { createApprovalService, type ApprovalService, type ApprovalServiceOptions, type Principal, type WaitOutcome } from './approval-service.js';
export { archiveDirOf, historyRetentionOf, loadServerConfig, sha256Hex, storeUrlOf, type ApiKey, type ServerConfig } from './config/server-config.js';
export { archiveResolved, type ArchiveResolvedOptions, type ArchiveResult } from './retention/archive-resolved.js';
export { verifyAuditLog, type AuditLogReport, type VerifyAuditLogOptions } from './retention/verify-audit-log.js';
export { readableByOthers } from './config/private-files.js';
export { unapprovableRules } from './config/unapprovable-rules.js';
export { createApp, type AppOptions } from './http/create-app.js';
export { openApiDocument } from './http/openapi.js';
export { startServer, type RunningServer } from './start-server.js';
export { openStore } from './store/open-store.js';
export { openCallHistory } from './store/open-call-history.js';
export { openSqliteCallHistory } from './store/sqlite-call-history.js';
export { openPostgresCallHistory } from './store/postgres-call-history.js';
export type { CallHistory, CallToRecord } from './store/call-history.js';
export { openPostgresStore } from './store/postgres-store.js';
export { startLocalControlPlane, type LocalControlPlane, type LocalControlPlaneOptions } from './local-control-plane.js';
export type { Channel } from './channels/channel.js';
export { startOutboxDispatcher, type OutboxDispatcher, type OutboxDispatcherOptions } from './channels/outbox-dispatcher.js';
export { startAuditHeadPublisher, type AuditHeadPublisher, type AuditHeadPublisherOptions } from './channels/audit-head-publisher.js';
export { createWebhookChannel, type ApprovalWebhookPayload, type AuditHeadWebhookPayload, type WebhookChannelOptions } from './channels/webhook-channel.js';
export { createEmailChannel, type EmailChannelOptions } from './channels/email/email-channel.js';
export { createSlackChannel, type SlackChannelOptions } from './channels/slack/slack-channel.js';
export { createInboxChannel, inboxRequestUrl, type InboxChannelOptions } from './channels/inbox/inbox-channel.js';
export type {
  AuditHeadOutboxMessage,
  AuditHeadOutboxMessageInput,
  OutboxDelivery,
  OutboxMessage,
  OutboxMessageInput,
  OutboxSettlement,
  OutboxTopic,
  RequestOutboxMessage,
  RequestOutboxMessageInput,
  RequestTopic,
} from './store/outbox-message.js';
