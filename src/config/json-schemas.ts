import { z } from 'zod';
import { BUILTIN_DRIVERS } from '../drivers/builtins.js';
import type { DriverKind } from '../drivers/types.js';
import { configSchema } from './config-schema.js';
import { presetSchema } from './preset-schema.js';

type JsonSchema = Record<string, unknown>;

/**
 * JSON Schemas for editor completion (yaml-language-server and friends), generated from the same zod
 * schemas that validate. Built-in driver options are added per driver with if/then on `driver`.
 */
export function presetJsonSchema(): JsonSchema {
  const schema = toJson(presetSchema, 'vmshepherd preset file (*.conf)');
  withDriverOptions(schema, 'iaas', 'iaas');
  withDriverOptions(schema, 'healthcheck', 'healthcheck');
  return schema;
}

export function configJsonSchema(): JsonSchema {
  const schema = toJson(configSchema, 'vmshepherd main configuration');
  withDriverOptions(schema, 'runtime', 'runtime');
  withDriverOptions(schema, 'presets', 'presets');
  const defaults = (schema.properties as Record<string, JsonSchema>).defaults;
  if (defaults) {
    withDriverOptions(defaults, 'iaas', 'iaas');
    withDriverOptions(defaults, 'healthcheck', 'healthcheck');
  }
  return schema;
}

function toJson(schema: z.ZodType, title: string): JsonSchema {
  return {
    $id: `https://vmshepherd.dev/schema/${title.includes('preset') ? 'preset' : 'config'}.schema.json`,
    title,
    ...(z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
      target: 'draft-2020-12',
    }) as JsonSchema),
  };
}

function withDriverOptions(parent: JsonSchema, property: string, kind: DriverKind): void {
  const props = parent.properties as Record<string, JsonSchema> | undefined;
  const block = props?.[property];
  if (!block) return;
  const names = BUILTIN_DRIVERS.filter((d) => d.kind === kind).map((d) => d.name);
  const driverProp = (block.properties as Record<string, JsonSchema> | undefined)?.driver;
  if (driverProp) driverProp.examples = names;
  block.allOf = BUILTIN_DRIVERS.filter((d) => d.kind === kind && d.optionsJsonSchema).map((d) => ({
    if: { properties: { driver: { const: d.name } }, required: ['driver'] },
    // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword here, not a thenable.
    then: { properties: (d.optionsJsonSchema as JsonSchema).properties ?? {} },
  }));
}
