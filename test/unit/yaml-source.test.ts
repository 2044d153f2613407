import { describe, expect, it } from 'vitest';
import { readYaml, YamlSource } from '../../src/util/yaml-source.js';

/** Each plain scalar and what PyYAML 6 (`yaml.safe_load`) gave for it, as the original read it. */
const PYYAML: [string, unknown][] = [
  ['yes', true],
  ['Yes', true],
  ['YES', true],
  ['no', false],
  ['NO', false],
  ['on', true],
  ['Off', false],
  ['true', true],
  ['False', false],
  ['y', 'y'],
  ['n', 'n'],
  ['Y', 'Y'],
  ['N', 'N'],
  ['0755', 493],
  ['-0755', -493],
  ['0x1F', 31],
  ['0b101', 5],
  ['1_000', 1000],
  ['08', '08'],
  ['0', 0],
  ['1:30', 90],
  ['190:20:30', 685230],
  ['0:30', '0:30'],
  ['1.5', 1.5],
  ['0.001', 0.001],
  ['1.', 1.0],
  ['.5', 0.5],
  ['1e3', '1e3'],
  ['1.5e3', '1.5e3'],
  ['1.5e+3', 1500.0],
  ['1.0e-2', 0.01],
  ['.inf', Number.POSITIVE_INFINITY],
  ['-.inf', Number.NEGATIVE_INFINITY],
  ['.nan', Number.NaN],
  ['~', null],
  ['null', null],
  ['', null],
  ['abc', 'abc'],
  ['1:30.5', 90.5],
  ['+12', 12],
];

describe('YAML read as PyYAML read it', () => {
  it.each(PYYAML)('reads %j as PyYAML did', (text, expected) => {
    expect((readYaml(`v: ${text}\n`) as { v: unknown }).v).toEqual(expected);
  });

  it('keeps keys such as n and y as text (not false and true)', () => {
    expect(readYaml('n: 1\ny: 2\n')).toEqual({ n: 1, y: 2 });
  });

  it('reads a document that declares %YAML 1.2 as YAML 1.2', () => {
    expect(readYaml('%YAML 1.2\n---\na: yes\nb: 0755\nc: 1e3\n')).toEqual({ a: 'yes', b: 755, c: 1000 });
  });

  it('types an unquoted ${VARIABLE} as the file reads its own scalars', () => {
    const read = (text: string, env: NodeJS.ProcessEnv) => {
      const { source } = YamlSource.parse(text, 'f.yaml', {
        syntax: 'config_load_1001',
        duplicate: 'config_load_1006',
      });
      source!.interpolateEnv(env, 'config_load_1004');
      return source!.toJS();
    };
    expect(read('a: ${A}\nb: ${B}\nc: "${A}"\n', { A: 'no', B: '0755' })).toEqual({
      a: false,
      b: 493,
      c: 'no',
    });
    expect(read('%YAML 1.2\n---\na: ${A}\nb: ${B}\n', { A: 'no', B: '0755' })).toEqual({ a: 'no', b: 755 });
  });

  it('warns about a key given twice at the one that wins, and not about repeated merge keys', () => {
    const text = 'a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: *a\n  <<: *b\nd: 1\nd: 2\n';
    const { source, warnings } = YamlSource.parse(text, 'f.yaml', {
      syntax: 'config_load_1001',
      duplicate: 'config_load_1006',
    });
    expect(source?.toJS()).toMatchObject({ c: { x: 1, y: 2 }, d: 2 });
    expect(warnings.map((w) => [w.code, w.at])).toEqual([
      ['config_load_1006', { file: 'f.yaml', line: 7, col: 1 }],
    ]);
  });
});
