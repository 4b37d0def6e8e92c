export { gateToolCalls, type GateToolCallsOptions } from './gate-tool-calls.js';
export { resumeToolCalls, type ResumeToolCallsOptions } from './resume-tool-calls.js';
export { runToolLoop, type PausedToolLoop, type RunToolLoopOptions, type ToolLoopResult } from './run-tool-loop.js';
export type {
  ChatToolAnswer,
  CompletedGate,
  GateResult,
  PausedGate,
  PausedToolCalls,
  ResponsesToolAnswer,
  ToolAnswer,
  ToolCallRecord,
  ToolCallStatus,
  ToolHandlers,
} from './tool-call-record.js';

export { withSignoff, type SignoffAgentsOptions, type WithSignoffOptions } from './with-signoff.js';
export { resolveInterruptions, type ResolveInterruptionsOptions, type ResolvedInterruptions } from './resolve-interruptions.js';
