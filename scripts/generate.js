// Writes the generated files (docs/errors.md, schema/*.json) from the built sources: `npm run gen`.
import { writeFileSync } from 'node:fs';
import { configJsonSchema, presetJsonSchema } from '../dist/config/json-schemas.js';
import { errorsMarkdown } from '../dist/errors/errors-markdown.js';

writeFileSync('docs/errors.md', errorsMarkdown());
writeFileSync('schema/config.schema.json', `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
writeFileSync('schema/preset.schema.json', `${JSON.stringify(presetJsonSchema(), null, 2)}\n`);
console.log('wrote docs/errors.md, schema/config.schema.json, schema/preset.schema.json');
