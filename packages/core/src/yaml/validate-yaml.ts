import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type * as z from 'zod';

/** One problem in a YAML file, with where it is and what was expected. */
export interface YamlIssue {
  /** The file, or `<inline>` when the text was given directly. */
  readonly file: string;
  /** 1-based line of the offending node. */
  readonly line: number;
  /** 1-based column of the offending node. */
  readonly column: number;
  /** Where in the document, e.g. `rules[0].when.args.amount.gt`. */
  readonly path: string;
  /** What is wrong and what was expected. */
  readonly message: string;
}

/** A path into parsed YAML data. */
export type YamlPath = readonly (string | number)[];

/** A problem found by a caller's own checks, before it is given a position. */
export interface UnlocatedIssue {
  readonly path: YamlPath;
  readonly message: string;
  /** Point at the mapping key rather than its value (unknown keys, bad condition paths). */
  readonly atKey?: boolean;
}

export interface ValidateYamlOptions {
  /** Named in every issue; defaults to `<inline>`. */
  readonly file?: string;
  /** Checks the schema cannot express; run on the raw data even when the schema fails, so all problems show at once. */
  readonly check?: (data: unknown) => UnlocatedIssue[];
}

/** Valid data, with a way to locate its nodes; or every issue found, sorted by position. */
export type ValidateYamlResult<T> =
  | { readonly ok: true; readonly data: T; readonly locate: (path: YamlPath) => { line: number; column: number } }
  | { readonly ok: false; readonly issues: readonly YamlIssue[] };

type PathSegment = string | number;

/**
 * Parses YAML (or JSON) text and validates it with a zod schema, collecting every problem (syntax,
 * schema, the caller's own checks) with file, line, column and a message that says what was
 * expected and what came. Policies, server config and policy test cases all load through it.
 *
 * @example
 * const result = validateYaml(text, z.strictObject({ port: z.number() }), { file: 'signoff.yaml' });
 * if (!result.ok) for (const issue of result.issues) console.error(`${issue.file}:${issue.line}:${issue.column}: ${issue.message}`);
 */
export function validateYaml<T>(text: string, schema: z.ZodType<T>, options: ValidateYamlOptions = {}): ValidateYamlResult<T> {
  const file = options.file ?? '<inline>';
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, schema: 'core', prettyErrors: false });
  const position = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const fail = (issues: YamlIssue[]): ValidateYamlResult<T> => ({ ok: false, issues: sortIssues(dedupe(issues)) });

  const syntaxIssues = [...document.errors, ...document.warnings].map(
    (problem): YamlIssue => ({
      file,
      ...position(problem.pos[0]),
      path: '',
      message: problem.code === 'MULTIPLE_DOCS' ? "expected one YAML document, found multiple documents; remove the '---' that starts the second" : `YAML: ${firstLine(problem.message)}`,
    }),
  );
  if (syntaxIssues.length > 0) return fail(syntaxIssues);

  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return fail([{ file, line: 1, column: 1, path: '', message: `YAML: ${(error as Error).message}` }]);
  }
  if (data === null || data === undefined) {
    return fail([{ file, line: 1, column: 1, path: '', message: 'expected a mapping, got an empty document' }]);
  }

  const result = schema.safeParse(data, { reportInput: true });
  const unlocated = [
    ...(result.error?.issues ?? []).flatMap((issue) => fromZodIssue(issue as z.core.$ZodIssue, [])),
    ...(options.check?.(data) ?? []),
  ];
  const locate = (path: YamlPath, atKey = false) => position(nodeOffset(document, path, atKey));
  if (!result.success || unlocated.length > 0) {
    return fail(
      unlocated.map((issue) => ({ file, ...locate(issue.path, issue.atKey === true), path: formatPath(issue.path), message: issue.message })),
    );
  }
  return { ok: true, data: result.data, locate: (path) => locate(path) };
}

/** Turns one zod issue into located issues with messages that say what was expected and what came. */
function fromZodIssue(issue: z.core.$ZodIssue, prefix: readonly PathSegment[]): UnlocatedIssue[] {
  const path = [...prefix, ...(issue.path as PathSegment[])];
  const atKey = (issue as { params?: { at?: string } }).params?.at === 'key';
  const input = (issue as { input?: unknown }).input;
  if (input === undefined && path.length > 0 && ['invalid_type', 'invalid_union', 'invalid_value'].includes(issue.code)) {
    return [{ path, atKey: true, message: `missing required key '${String(path.at(-1))}': ${issue.message}` }];
  }
  switch (issue.code) {
    case 'invalid_union': {
      // Report the branch that got furthest: the one whose type matched the input.
      const typed = issue.errors.filter((branch) => !branch.every((inner) => inner.code === 'invalid_type' && inner.path.length === 0));
      if (typed.length === 1) return (typed[0] as z.core.$ZodIssue[]).flatMap((inner) => fromZodIssue(inner, path));
      return [{ path, message: `${issue.message}, got ${describe(issue.input)}` }];
    }
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: [...path, key],
        atKey: true,
        message: issue.message.includes('{key}') ? issue.message.replace('{key}', key) : `unknown key '${key}'`,
      }));
    case 'invalid_type':
      return [{ path, message: `${issue.message}, got ${describe(issue.input)}` }];
    case 'invalid_value':
      return [{ path, message: `${issue.message}, got ${describe(issue.input)}` }];
    default:
      return [{ path, atKey, message: issue.message }];
  }
}

/** Offset of the node a path points at (or of the nearest ancestor that exists). */
function nodeOffset(document: Document, path: readonly PathSegment[], atKey: boolean): number {
  let node: unknown = document.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [depth, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return offset;
      const isLast = depth === path.length - 1;
      if (isLast && atKey) return rangeStart(pair.key) ?? offset;
      node = pair.value;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

function describe(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
  return String(input);
}

function formatPath(path: readonly PathSegment[]): string {
  return path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('');
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function sortIssues(issues: YamlIssue[]): YamlIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

function dedupe(issues: YamlIssue[]): YamlIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
