import * as z from 'zod';
import { CONDITION_PATH, MAX_PATTERN_LENGTH, PolicyDocumentSchema } from './policy-schema.js';

const SCALAR = { type: ['string', 'number', 'boolean', 'null'] };
const STRING_LIST_OF_SCALARS = { type: 'array', items: SCALAR };
const DURATION = { type: 'string', pattern: '^\\d+(?:\\.\\d+)?[smhd]$', description: 'A duration: 30s, 10m, 1h, 7d.' };
const PER = { type: 'array', items: { type: 'string', pattern: CONDITION_PATH.source }, description: 'Paths whose values partition the history, e.g. [context.agent, args.to].' };

/**
 * The JSON Schema (2020-12) of a policy file, for editors: published as
 * `@signoff/core/policy.schema.json`; add `# yaml-language-server: $schema=<path or URL>` at the
 * top of a policy. Generated from the zod schema the loader validates with, with the `when`
 * language spelled out (zod checks it in code). The loader stays the authority: it also vets
 * globs, regexes and cross-references the schema cannot express.
 *
 * @example
 * writeFileSync('policy.schema.json', JSON.stringify(policyJsonSchema(), null, 2));
 */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicyDocumentSchema, { io: 'input', unrepresentable: 'any', reused: 'inline' }) as Record<string, any>;
  const rule = schema.properties.rules.items;
  schema.title = 'Signoff policy';
  schema.description = 'Decides, for each AI agent tool call, allow, deny or escalate (human approval). Rules are tried in order; the first match wins.';
  schema.properties.version.description = 'Policy language version (1).';
  schema.properties.default.description = 'Action when no rule matches. Absent means deny (fail-closed).';
  rule.properties.id.description = 'Rule id (default rule-<n>), named in decisions and the audit log.';
  rule.properties.tool.description = 'Exact tool name, glob (* within a dot segment, ** across, ? one char, {a,b}), or a list of them.';
  rule.properties.action.description = 'allow | deny | escalate (pause for human approval).';
  rule.properties.reason.description = 'Shown to the model and reviewers; may template {args.x} and {context.x}.';
  rule.properties.metadata.description = 'Approval requirements (escalate rules only).';
  rule.properties.when = { $ref: '#/$defs/when' };
  schema.$defs = {
    ...(schema.$defs ?? {}),
    when: {
      type: 'object',
      description: 'All entries must hold. Keys are paths into args.… or context.…; a literal means eq. Unknown values fail closed.',
      properties: {
        any: { type: 'array', minItems: 1, items: { $ref: '#/$defs/when' }, description: 'Holds when one of these condition maps holds.' },
        all: { type: 'array', minItems: 1, items: { $ref: '#/$defs/when' }, description: 'Holds when all of these condition maps hold.' },
        window: {
          type: 'object',
          description: 'The calls the aggregates beside it (count, sum(…), min(…), max(…)) look at: this tool, within a duration, with the same values at each per path. Decided by the control plane.',
          properties: { within: DURATION, per: PER },
          required: ['within'],
          additionalProperties: false,
        },
        count: { $ref: '#/$defs/aggregateOperators', description: 'How many calls in the window (this one included).' },
        after: {
          type: 'object',
          description: 'Holds when one of these tools (names or globs) was called within the duration before this call (same per values). Decided by the control plane.',
          properties: { tool: { anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { type: 'string' } }] }, within: DURATION, per: PER },
          required: ['tool', 'within'],
          additionalProperties: false,
        },
        not_after: {
          type: 'object',
          description: 'Holds when none of these tools (names or globs) was called within the duration before this call (same per values). Decided by the control plane.',
          properties: { tool: { anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { type: 'string' } }] }, within: DURATION, per: PER },
          required: ['tool', 'within'],
          additionalProperties: false,
        },
      },
      patternProperties: {
        [CONDITION_PATH.source]: { anyOf: [SCALAR, { $ref: '#/$defs/operators' }] },
        [`^(?:sum|min|max)\\((?:${CONDITION_PATH.source.slice(1, -1)})\\)$`]: {
          $ref: '#/$defs/aggregateOperators',
          description: 'sum / min / max of the numbers at a path over the window (this call included).',
        },
      },
      additionalProperties: false,
    },
    aggregateOperators: {
      type: 'object',
      minProperties: 1,
      properties: { eq: { type: 'number' }, ne: { type: 'number' }, gt: { type: 'number' }, gte: { type: 'number' }, lt: { type: 'number' }, lte: { type: 'number' } },
      additionalProperties: false,
    },
    operators: {
      type: 'object',
      minProperties: 1,
      description: 'Operators on one value; several must all hold.',
      properties: {
        eq: { description: 'Equal (deep; a number also matches a numeric string).' },
        ne: { description: 'Not equal.' },
        gt: { type: 'number' },
        gte: { type: 'number' },
        lt: { type: 'number' },
        lte: { type: 'number' },
        in: { ...STRING_LIST_OF_SCALARS, description: 'One of these values.' },
        not_in: STRING_LIST_OF_SCALARS,
        notIn: STRING_LIST_OF_SCALARS,
        contains: { ...SCALAR, description: 'A string containing it, or a list holding it.' },
        starts_with: { type: 'string' },
        startsWith: { type: 'string' },
        ends_with: { type: 'string' },
        endsWith: { type: 'string' },
        matches: {
          type: 'string',
          maxLength: MAX_PATTERN_LENGTH,
          description: 'A regular expression in RE2 syntax, matched in linear time (an unanchored search; no lookaround or backreferences).',
        },
        exists: { type: 'boolean', description: 'true: present and not null; false: missing or null. Never unknown.' },
        not: { $ref: '#/$defs/operators' },
      },
      additionalProperties: false,
    },
  };
  return schema;
}
