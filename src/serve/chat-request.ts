import { z } from 'zod';
import type { ChatMessage, ResponseFormat } from '../runtime/chat-types.js';
import { httpErrors } from './errors.js';

/**
 * POST /v1/chat/completions bodies: the OpenAI fields finesec serves, checked with their OpenAI
 * names so a 400 names the offending `param`. Unknown fields are accepted and ignored, as other
 * OpenAI-compatible servers do (clients send many optional ones); fields that would change the
 * answer in ways finesec cannot honour (n > 1, tools, logprobs) are refused.
 */
const textPart = z.object({ type: z.literal('text'), text: z.string() });

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(textPart).min(1)]),
  name: z.string().optional(),
});

const jsonSchemaFormat = z.object({
  type: z.literal('json_schema'),
  json_schema: z.object({
    name: z.string().min(1).max(64),
    description: z.string().optional(),
    schema: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  jsonSchemaFormat,
]);

const body = z.object({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.literal(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  response_format: responseFormat.nullish(),
  tools: z.array(z.unknown()).max(0, 'tools are not supported').nullish(),
  logprobs: z.literal(false).nullish(),
});

export interface ParsedChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
  stream: boolean;
  includeUsage: boolean;
  responseFormat?: ResponseFormat;
}

/** Validates a parsed JSON body; throws an HttpError 400 naming the first bad param. */
export function parseChatRequest(json: unknown, maxTokensLimit: number): ParsedChatRequest {
  const parsed = body.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = paramName(issue.path);
    throw httpErrors.badRequest(`${param ? `${param}: ` : ''}${issue.message}`, param || null);
  }
  const b = parsed.data;
  const maxTokens = b.max_completion_tokens ?? b.max_tokens ?? undefined;
  if (maxTokens !== undefined && maxTokens > maxTokensLimit) {
    const param = b.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
    throw httpErrors.badRequest(`${param} is ${maxTokens}, above this server's limit of ${maxTokensLimit}`, param, 'max_tokens_too_large');
  }
  const messages = b.messages.map((m): ChatMessage => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
  }));
  let format: ResponseFormat | undefined;
  const rf = b.response_format;
  if (rf?.type === 'json_object') format = { type: 'json_object' };
  else if (rf?.type === 'json_schema') {
    if (rf.json_schema.schema === undefined) {
      throw httpErrors.badRequest('response_format.json_schema.schema is required', 'response_format.json_schema.schema');
    }
    format = { type: 'json_schema', name: rf.json_schema.name, schema: rf.json_schema.schema };
  }
  return {
    model: b.model,
    messages,
    maxTokens: maxTokens ?? maxTokensLimit,
    ...(b.temperature != null ? { temperature: b.temperature } : {}),
    ...(b.top_p != null ? { topP: b.top_p } : {}),
    ...(b.seed != null ? { seed: b.seed } : {}),
    ...(b.stop != null ? { stop: typeof b.stop === 'string' ? [b.stop] : b.stop } : {}),
    stream: b.stream === true,
    includeUsage: b.stream_options?.include_usage === true,
    ...(format ? { responseFormat: format } : {}),
  };
}

/** ["messages", 0, "role"] -> "messages[0].role" (OpenAI's param spelling). */
function paramName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
