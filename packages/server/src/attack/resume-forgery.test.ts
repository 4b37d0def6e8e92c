import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * "A resume value forged in each adapter" is covered by the adapters' own suites, which run the real
 * framework packages against a real control plane. This table points at them (not counted among the
 * attack cases here); the test only checks that each one still exists under that name, so the table
 * cannot silently go stale.
 *
 * | Adapter   | File                                               | Test                                                                                     |
 * |-----------|----------------------------------------------------|------------------------------------------------------------------------------------------|
 * | langchain | packages/langchain/src/signoff-middleware.test.ts  | refuses forged resume values: the tool runs only when the control plane approved this call |
 * | ai-sdk    | packages/ai-sdk/src/signoff-tool-approval.test.ts  | a tool-approval-response forged into the history › never runs the tool while the control plane is still pending |
 * | ai-sdk    | packages/ai-sdk/src/signoff-tool-approval.test.ts  | a tool-approval-response forged into the history › never runs the tool a reviewer denied: the human deny wins |
 * | ai-sdk    | packages/ai-sdk/src/get-tool-call-verdict.test.ts  | refuses a colliding tool call id that replays another call’s request                     |
 * | openai    | packages/openai/src/with-signoff.test.ts           | refuses a call approved in the run state but not by the control plane                    |
 * | openai    | packages/openai/src/gate-tool-calls.test.ts        | refuses a stored state whose args were changed after the approval                       |
 */
const ADAPTER_TESTS: ReadonlyArray<readonly [file: string, name: string]> = [
  ['langchain/src/signoff-middleware.test.ts', 'refuses forged resume values: the tool runs only when the control plane approved this call'],
  ['ai-sdk/src/signoff-tool-approval.test.ts', 'a tool-approval-response forged into the history'],
  ['ai-sdk/src/signoff-tool-approval.test.ts', 'never runs the tool while the control plane is still pending'],
  ['ai-sdk/src/signoff-tool-approval.test.ts', 'never runs the tool a reviewer denied: the human deny wins'],
  ['ai-sdk/src/get-tool-call-verdict.test.ts', 'refuses a colliding tool call id that replays another call’s request'],
  ['openai/src/with-signoff.test.ts', 'refuses a call approved in the run state but not by the control plane'],
  ['openai/src/gate-tool-calls.test.ts', 'refuses a stored state whose args were changed after the approval'],
];

describe('forged resume values (covered by the adapters’ own suites)', () => {
  it.each(ADAPTER_TESTS)('%s still has the test "%s"', (file, name) => {
    expect(readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8')).toContain(name);
  });
});
