// The byte-level tokenizer: round trips for arbitrary Unicode text, with and without special-token
// parsing; ids are the UTF-8 bytes; the special tokens of the unified sequence (§5.2.1) get the ids of
// special-tokens.ts and are read from text only on request; bad ids and invalid UTF-8 are reported.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteTokenizer, BYTE_TOKENIZER_VOCAB_SIZE } from '../../../src/model/policy/tokenizer.js';
import { SPECIAL_TOKEN_NAMES, byteVocabulary, type SpecialTokens } from '../../../src/model/special-tokens.js';

const RUNS = { numRuns: 200 } as const;
const tok = new ByteTokenizer();
const names = Object.values(SPECIAL_TOKEN_NAMES);
const keys = Object.keys(SPECIAL_TOKEN_NAMES) as (keyof SpecialTokens)[];
// Text that mixes arbitrary code points with written special tokens and near misses.
const textArb = fc
  .array(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...names), fc.constantFrom('<', '>', '<img', 'begin>', '<<action_end>>')), { maxLength: 8 })
  .map((parts) => parts.join(''));

describe('ByteTokenizer', () => {
  test('has the ids of special-tokens.ts: bytes 0-255, then the 9 special tokens', () => {
    assert.equal(tok.vocabSize, BYTE_TOKENIZER_VOCAB_SIZE);
    assert.equal(tok.vocabSize, 256 + keys.length);
    assert.deepEqual(tok.specials, byteVocabulary.specials);
  });

  test('encode gives the UTF-8 bytes of any string (well-formed Unicode)', () => {
    const utf8 = new TextEncoder();
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => assert.deepEqual(tok.encode(s), Array.from(utf8.encode(s)))), RUNS);
  });

  test('decode(encode(s)) = s for arbitrary Unicode strings, special-token text included', () => {
    fc.assert(fc.property(textArb, (s) => assert.equal(tok.decode(tok.encode(s)), s)), RUNS);
  });

  test('decode(encode(s, { specials: true })) = s for arbitrary Unicode strings', () => {
    fc.assert(fc.property(textArb, (s) => assert.equal(tok.decode(tok.encode(s, { specials: true })), s)), RUNS);
  });

  test('with specials, each written special token becomes its id and nothing else does', () => {
    fc.assert(
      fc.property(textArb, (s) => {
        const ids = tok.encode(s, { specials: true });
        const specialCount = ids.filter((id) => tok.isSpecial(id)).length;
        // Count written names left to right without overlap, as the tokenizer reads them.
        const pattern = new RegExp(names.map((n) => n.replace(/[<>]/g, '\\$&')).join('|'), 'g');
        assert.equal(specialCount, (s.match(pattern) ?? []).length);
      }),
      RUNS,
    );
    for (const k of keys) assert.deepEqual(tok.encode(`a${SPECIAL_TOKEN_NAMES[k]}b`, { specials: true }), [97, tok.specials[k], 98]);
  });

  test('tokenize (the sequence builder\'s entry) never yields a special id, even for written special tokens', () => {
    fc.assert(fc.property(textArb, (s) => assert.ok(tok.tokenize(s).every((id) => id >= 0 && id < 256))), RUNS);
    assert.deepEqual(tok.tokenize('<action_begin>'), Array.from(new TextEncoder().encode('<action_begin>')));
  });

  test('decode writes special ids by name, or skips them', () => {
    const ids = [104, 195, 169, tok.specials.imageBegin, 33, tok.specials.actionEnd];
    assert.equal(tok.decode(ids), `hé${SPECIAL_TOKEN_NAMES.imageBegin}!${SPECIAL_TOKEN_NAMES.actionEnd}`);
    assert.equal(tok.decode(ids, { skipSpecials: true }), 'hé!');
  });

  test('decode rejects ids outside the vocabulary, naming the id and its index', () => {
    assert.throws(() => tok.decode([1, 265]), /ByteTokenizer\.decode: id 265 at index 1 is outside \[0, 265\)/);
    assert.throws(() => tok.decode([-1]), /id -1 at index 0/);
    assert.throws(() => tok.decode([1.5]), /id 1\.5/);
  });

  test('invalid UTF-8 becomes U+FFFD, or throws when strict', () => {
    assert.equal(tok.decode([0xff, 97]), '\uFFFDa');
    assert.throws(() => tok.decode([0xc3], { strict: true }), /bytes \[195\] are not valid UTF-8/);
  });
});
