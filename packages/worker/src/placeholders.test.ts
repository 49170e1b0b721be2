import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { replacePlaceholders } from './placeholders.js';

/** The regex the scanner replaces: its results are the specification (but quadratic). */
const PLACEHOLDER = /\{\{-?\s*(.*?)\s*-?\}\}/g;
const byRegex = (text: string, replace: (expr: string) => string) => text.replace(PLACEHOLDER, (_, expr: string) => replace(expr));

/** Each expression wrapped, so a test sees both where the placeholders were and what they held. */
const mark = (expr: string) => `<${expr}>`;

describe('replacePlaceholders', () => {
  it.each([
    ['{{ .a }}', '<.a>'],
    ['x{{.a}}y{{ index . "b" }}z', 'x<.a>y<index . "b">z'],
    ['{{- .a -}}', '<.a>'],
    ['{{-}}', '<>'],
    ['{{ -}}', '<>'],
    ['{{}}', '<>'],
    ['{{ .x- }}', '<.x->'],
    ['{{\n .a \n}}', '<.a>'],
    ['{{ .a\n.b }}', '{{ .a\n.b }}'],
    ['{{ .a\n{{ .b }}', '{{ .a\n<.b>'],
    ['{{{{ .a }}', '<{{ .a>'],
    ['{{ .a }} }}', '<.a> }}'],
    ['{{ no close', '{{ no close'],
    ['}} {{', '}} {{'],
    ['{{ a\u2028b }}', '{{ a\u2028b }}'],
  ])('finds what the regex finds in %j', (text, expected) => {
    expect(replacePlaceholders(text, mark)).toBe(expected);
    expect(byRegex(text, mark)).toBe(expected);
  });

  it('gives the regex\'s result on any text built from the characters that matter', () => {
    const pieces = fc.constantFrom('{{', '}}', '{', '}', '-', ' ', '\n', '\r', '\t', '\u00a0', '\u2028', '.', 'a', '"', 'index ');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }).map((p) => p.join('')), (text) => {
        expect(replacePlaceholders(text, mark)).toBe(byRegex(text, mark));
      }),
      { numRuns: 5_000 },
    );
  });

  it('stops at the first placeholder its callback rejects, as the regex does', () => {
    const calls: string[] = [];
    const reject = (expr: string) => {
      calls.push(expr);
      if (expr === 'bad') throw new Error(`rejected ${expr}`);
      return '';
    };
    expect(() => replacePlaceholders('{{ a }}{{ bad }}{{ c }}', reject)).toThrow('rejected bad');
    expect(calls).toEqual(['a', 'bad']);
  });

  it('completes on 40,000 "{{" without a "}}" (quadratic for the regex)', () => {
    const text = '{{'.repeat(40_000);
    expect(replacePlaceholders(text, mark)).toBe(text);
    expect(replacePlaceholders(`${'{{'.repeat(40_000)} .a }}`, mark)).toBe(`<${'{{'.repeat(39_999)} .a>`);
  });

  it('completes on a megabyte of "{{ " openings without a close', () => {
    const text = '{{ -'.repeat(250_000);
    expect(replacePlaceholders(text, mark)).toBe(text);
  });
});
