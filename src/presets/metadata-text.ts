import type { OptionIssue } from '../drivers/types.js';
import type { JsonValue } from './preset.js';

/**
 * VM metadata holds text: a meta tag that is not text (a number, a boolean, a list, a map) is its JSON
 * text there, and keeps its YAML type for the API and templates. Each such tag is reported.
 */
export function metadataText(tags: Record<string, JsonValue>): {
  text: Record<string, string>;
  converted: OptionIssue[];
} {
  const text: Record<string, string> = {};
  const converted: OptionIssue[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value === 'string') {
      text[key] = value;
      continue;
    }
    text[key] = JSON.stringify(value);
    converted.push({
      path: ['meta_tags', key],
      message: `${JSON.stringify(value)} is not text: '${text[key]}' in VM metadata (its own type in the API and templates)`,
    });
  }
  return { text, converted };
}
