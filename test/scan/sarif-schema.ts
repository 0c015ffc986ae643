import { Ajv } from 'ajv';

/**
 * No npm package ships the SARIF 2.1.0 JSON schema here, so this is the part of it GitHub code
 * scanning documents as required or checks on upload, written as a JSON Schema: version and
 * $schema, runs[].tool.driver.name, rules with help and string tags, results with ruleId,
 * message.text, a physical location with a relative uri and region.startLine >= 1, string
 * partialFingerprints, levels from {none, note, warning, error}, well-formed codeFlows, fixes
 * (artifactChanges with replacements), suppressions and tool execution notifications.
 */
const message = { type: 'object', required: ['text'], properties: { text: { type: 'string', minLength: 1 } } };
const level = { enum: ['none', 'note', 'warning', 'error'] };
const positive = { type: 'integer', minimum: 1 };

export const sarifSubsetSchema = {
  type: 'object',
  required: ['version', '$schema', 'runs'],
  properties: {
    version: { const: '2.1.0' },
    $schema: { type: 'string', pattern: 'sarif-(schema-)?2\\.1\\.0' },
    runs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['tool', 'results'],
        properties: {
          tool: {
            type: 'object',
            required: ['driver'],
            properties: {
              driver: {
                type: 'object',
                required: ['name'],
                properties: {
                  name: { type: 'string', minLength: 1 },
                  version: { type: 'string' },
                  rules: { type: 'array', items: { $ref: '#/definitions/rule' } },
                },
              },
            },
          },
          results: { type: 'array', items: { $ref: '#/definitions/result' } },
          invocations: {
            type: 'array',
            items: {
              type: 'object',
              required: ['executionSuccessful'],
              properties: {
                executionSuccessful: { type: 'boolean' },
                toolExecutionNotifications: { type: 'array', items: { $ref: '#/definitions/notification' } },
              },
            },
          },
        },
      },
    },
  },
  definitions: {
    region: {
      type: 'object',
      required: ['startLine'],
      properties: { startLine: positive, endLine: positive, startColumn: positive, endColumn: positive },
    },
    artifactLocation: {
      type: 'object',
      required: ['uri'],
      properties: { uri: { type: 'string', minLength: 1, pattern: '^(?!/)(?![A-Za-z]+:)' }, uriBaseId: { type: 'string' } },
    },
    physicalLocation: {
      type: 'object',
      required: ['artifactLocation'],
      properties: { artifactLocation: { $ref: '#/definitions/artifactLocation' }, region: { $ref: '#/definitions/region' } },
    },
    location: {
      type: 'object',
      properties: { physicalLocation: { $ref: '#/definitions/physicalLocation' }, message },
    },
    rule: {
      type: 'object',
      required: ['id', 'name', 'shortDescription', 'fullDescription', 'helpUri', 'help', 'defaultConfiguration', 'properties'],
      properties: {
        id: { type: 'string', pattern: '^CWE-[0-9]+$' },
        name: { type: 'string', minLength: 1 },
        shortDescription: message,
        fullDescription: message,
        helpUri: { type: 'string', pattern: '^https://cwe\\.mitre\\.org/data/definitions/[0-9]+\\.html$' },
        help: { type: 'object', required: ['text', 'markdown'], properties: { text: { type: 'string', minLength: 1 }, markdown: { type: 'string', minLength: 1 } } },
        defaultConfiguration: { type: 'object', required: ['level'], properties: { level } },
        properties: {
          type: 'object',
          required: ['tags'],
          properties: {
            tags: { type: 'array', items: { type: 'string' } },
            'security-severity': { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' },
          },
        },
      },
    },
    result: {
      type: 'object',
      required: ['ruleId', 'ruleIndex', 'level', 'message', 'locations', 'partialFingerprints'],
      properties: {
        ruleId: { type: 'string', minLength: 1 },
        ruleIndex: { type: 'integer', minimum: 0 },
        level,
        message,
        locations: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['physicalLocation'],
            properties: { physicalLocation: { allOf: [{ $ref: '#/definitions/physicalLocation' }, { required: ['region'] }] } },
          },
        },
        partialFingerprints: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
        codeFlows: {
          type: 'array',
          items: {
            type: 'object',
            required: ['threadFlows'],
            properties: {
              threadFlows: {
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  required: ['locations'],
                  properties: {
                    locations: {
                      type: 'array',
                      minItems: 1,
                      items: { type: 'object', required: ['location'], properties: { location: { $ref: '#/definitions/location' }, executionOrder: positive } },
                    },
                  },
                },
              },
            },
          },
        },
        fixes: {
          type: 'array',
          items: {
            type: 'object',
            required: ['artifactChanges'],
            properties: {
              description: message,
              artifactChanges: {
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  required: ['artifactLocation', 'replacements'],
                  properties: {
                    artifactLocation: { $ref: '#/definitions/artifactLocation' },
                    replacements: {
                      type: 'array',
                      minItems: 1,
                      items: {
                        type: 'object',
                        required: ['deletedRegion'],
                        properties: {
                          deletedRegion: { $ref: '#/definitions/region' },
                          insertedContent: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        suppressions: {
          type: 'array',
          items: {
            type: 'object',
            required: ['kind'],
            properties: {
              kind: { enum: ['inSource', 'external'] },
              status: { enum: ['accepted', 'underReview', 'rejected'] },
              justification: { type: 'string', minLength: 1 },
            },
          },
        },
        baselineState: { enum: ['new', 'unchanged', 'updated', 'absent'] },
      },
    },
    notification: {
      type: 'object',
      required: ['message'],
      properties: {
        level,
        message,
        descriptor: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } },
        locations: { type: 'array', items: { $ref: '#/definitions/location' } },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile<unknown>(sarifSubsetSchema);

interface SarifLike {
  runs: Array<{ tool: { driver: { rules?: Array<{ id: string }> } }; results: Array<{ ruleId: string; ruleIndex: number }> }>;
}

/** Parses and validates a SARIF text; throws with every problem listed. */
export function checkSarif(text: string): SarifLike & Record<string, unknown> {
  if (text.trim() === '') throw new Error('SARIF output is empty');
  const value = JSON.parse(text) as SarifLike & Record<string, unknown>;
  if (!validate(value)) {
    throw new Error(`SARIF does not validate:\n${(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('\n')}`);
  }
  for (const run of value.runs) {
    const rules = run.tool.driver.rules ?? [];
    for (const r of run.results) {
      if (rules[r.ruleIndex]?.id !== r.ruleId) throw new Error(`result ruleIndex ${r.ruleIndex} does not point at rule ${r.ruleId}`);
    }
    if (new Set(rules.map((r) => r.id)).size !== rules.length) throw new Error('two rules share an id');
  }
  return value;
}
