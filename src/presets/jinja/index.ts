/**
 * A Jinja2-compatible template engine for userdata: templates render byte for byte as Jinja2 3.x's
 * SandboxedEnvironment() renders them, over plain data, within limits of steps, output and depth.
 */
import { parse } from './parser.js';
import { DEFAULT_LIMITS, Renderer, type RenderLimits } from './render.js';

export { MAX_RANGE } from './globals.js';
export type { RenderLimits } from './render.js';
export { DEFAULT_LIMITS } from './render.js';
export { TemplateError, type TemplateErrorKind } from './template-error.js';
export { PyFloat } from './values.js';

/** Renders `source` with `context` (JSON-like data); throws TemplateError. */
export function renderJinja(
  source: string,
  context: Record<string, unknown>,
  limits: Partial<RenderLimits> = {},
): string {
  const nodes = parse(source);
  return new Renderer(context, { ...DEFAULT_LIMITS, ...limits }).render(nodes);
}
