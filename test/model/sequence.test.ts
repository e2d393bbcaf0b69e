// Properties of the unified sequence (Eq. 2-5): segments in order, each non-text segment wrapped in its
// begin/end tokens, text tokenized as given, embedding slots, expert ownership, and the loss index sets
// Ω_text and Ω_act covering exactly the answer's text tokens and action positions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { attentionMaskBits } from '../../src/model/hybrid-mask.js';
import {
  buildSequence,
  expertOf,
  sequenceMask,
  slotPositions,
  type QASample,
  type Segment,
  type SlotKind,
  type UnifiedSequence,
} from '../../src/model/sequence.js';
import { byteVocabulary, specialTokenName, type SpecialTokens } from '../../src/model/special-tokens.js';

const RUNS = { numRuns: 60 };
const S = byteVocabulary.specials;

const textArb: fc.Arbitrary<Segment> = fc.record({ modality: fc.constant('text' as const), text: fc.string({ maxLength: 6, unit: 'grapheme' }) });
const actionArb: fc.Arbitrary<Segment> = fc.record({
  modality: fc.constant('action' as const),
  steps: fc.integer({ min: 1, max: 4 }),
  discrete: fc.boolean(),
});
const segmentArb: fc.Arbitrary<Segment> = fc.oneof(
  textArb,
  fc.record({ modality: fc.constant('vision' as const), patches: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ modality: fc.constant('state' as const), vectors: fc.integer({ min: 1, max: 2 }) }),
  actionArb,
);
const sampleArb: fc.Arbitrary<QASample> = fc.record({
  query: fc.array(segmentArb, { maxLength: 5 }),
  answer: fc.array(fc.oneof(textArb, actionArb), { maxLength: 3 }),
});

function wrappers(kind: SlotKind, s: SpecialTokens = S): [number, number] {
  if (kind === 'vision') return [s.imageBegin, s.imageEnd];
  if (kind === 'state') return [s.stateBegin, s.stateEnd];
  if (kind === 'action') return [s.actionBegin, s.actionEnd];
  return [s.motionBegin, s.motionEnd];
}

function countOf(seg: Segment): number {
  if (seg.modality === 'vision') return seg.patches;
  if (seg.modality === 'state') return seg.vectors ?? 1;
  if (seg.modality === 'action') return seg.steps;
  return byteVocabulary.tokenize(seg.text as string).length;
}

function contentKind(seg: Segment): SlotKind {
  if (seg.modality === 'text') return 'token';
  if (seg.modality === 'action' && seg.discrete === true) return 'motion';
  return seg.modality;
}

function sorted(xs: Iterable<number>): number[] {
  return [...xs].sort((a, b) => a - b);
}

describe('buildSequence', () => {
  test('Eq. 2: the segments tile the sequence in the order given, query before answer', () => {
    fc.assert(
      fc.property(sampleArb, (sample) => {
        const seq = buildSequence(sample);
        const given = [...sample.query, ...sample.answer];
        assert.equal(seq.segments.length, given.length);
        let at = 0;
        seq.segments.forEach((span, k) => {
          assert.equal(span.start, at, `segment ${k} starts where the previous ended`);
          assert.equal(span.modality, given[k]!.modality);
          assert.equal(span.content, contentKind(given[k]!));
          assert.equal(span.part, k < sample.query.length ? 'query' : 'answer');
          assert.equal(span.contentEnd - span.contentStart, countOf(given[k]!), `segment ${k} holds its content`);
          for (let i = span.start; i < span.end; i++) {
            assert.equal(seq.modality[i], span.modality, `position ${i} takes its segment's modality`);
            assert.equal(seq.part[i], span.part);
          }
          at = span.end;
        });
        assert.equal(seq.length, at);
        assert.deepEqual([...seq.positionIds], Array.from({ length: seq.length }, (_, i) => i), 'PE(j) = j in [S_Q; S_A]');
      }),
      RUNS,
    );
  });

  test('Eq. 3: every non-text segment is wrapped in its begin/end tokens, and special tokens appear nowhere else', () => {
    fc.assert(
      fc.property(sampleArb, (sample) => {
        const seq = buildSequence(sample);
        const boundary = new Set<number>();
        for (const span of seq.segments) {
          if (span.modality === 'text') {
            assert.equal(span.contentStart, span.start);
            assert.equal(span.contentEnd, span.end);
            continue;
          }
          const [begin, end] = wrappers(span.content);
          assert.equal(seq.tokenIds[span.start], begin, `${span.content} segment opens with ${specialTokenName(S, begin)}`);
          assert.equal(seq.tokenIds[span.end - 1], end, `${span.content} segment closes with ${specialTokenName(S, end)}`);
          assert.equal(span.contentStart, span.start + 1);
          assert.equal(span.contentEnd, span.end - 1);
          boundary.add(span.start).add(span.end - 1);
          for (let i = span.contentStart; i < span.contentEnd; i++) assert.equal(seq.tokenIds[i], -1, 'content slots hold no token');
        }
        seq.tokenIds.forEach((id, i) => {
          assert.equal(specialTokenName(S, id) !== undefined, boundary.has(i), `position ${i} (id ${id})`);
        });
      }),
      RUNS,
    );
  });

  test('Eq. 2: text segments hold exactly the tokenizer ids, in order', () => {
    fc.assert(
      fc.property(sampleArb, (sample) => {
        const seq = buildSequence(sample);
        [...sample.query, ...sample.answer].forEach((seg, k) => {
          if (seg.modality !== 'text') return;
          const span = seq.segments[k]!;
          assert.deepEqual([...seq.tokenIds.subarray(span.start, span.end)], byteVocabulary.tokenize(seg.text as string));
        });
      }),
      RUNS,
    );
  });

  test('Eq. 4-5: Ω_text ∪ Ω_act covers exactly the answer (less its begin/end tokens) and nothing of the query', () => {
    fc.assert(
      fc.property(sampleArb, (sample) => {
        const seq = buildSequence(sample);
        const text = [...seq.textLossIndices];
        const act = [...seq.actionLossIndices];
        assert.deepEqual(text, sorted(text), 'Ω_text is in sequence order');
        assert.deepEqual(act, sorted(act), 'Ω_act is in sequence order');
        assert.equal(new Set([...text, ...act]).size, text.length + act.length, 'Ω_text and Ω_act are disjoint');
        const answerSpans = seq.segments.filter((s) => s.part === 'answer');
        const answerStart = answerSpans.length > 0 ? answerSpans[0]!.start : seq.length;
        const wrappersOfAnswer = answerSpans.filter((s) => s.modality !== 'text').flatMap((s) => [s.start, s.end - 1]);
        assert.deepEqual(sorted([...text, ...act, ...wrappersOfAnswer]), Array.from({ length: seq.length - answerStart }, (_, i) => answerStart + i));
        for (const i of text) assert.ok(seq.modality[i] === 'text' && seq.slots[i]!.kind === 'token', `Ω_text holds text tokens only (${i})`);
        for (const i of act) assert.ok(seq.modality[i] === 'action' && seq.slots[i]!.kind !== 'token', `Ω_act holds action slots only (${i})`);
        const expectedText = sample.answer.filter((s) => s.modality === 'text').flatMap((s) => byteVocabulary.tokenize(s.text as string));
        assert.deepEqual(text.map((i) => seq.tokenIds[i]), expectedText, 'the targets y_i are the answer text');
        const expectedSteps = sample.answer.filter((s) => s.modality === 'action').reduce((n, s) => n + countOf(s), 0);
        assert.equal(act.length, expectedSteps);
      }),
      RUNS,
    );
  });

  test('Eq. 5: the prediction of an answer token y_i, read at i − 1, never sees position i or later', () => {
    fc.assert(
      fc.property(sampleArb, (sample) => {
        const seq = buildSequence(sample);
        const T = seq.length;
        const bits = attentionMaskBits(seq.segments, T);
        for (const i of seq.textLossIndices) {
          if (i === 0) continue;
          for (let j = i; j < T; j++) assert.equal(bits[(i - 1) * T + j], 0, `row ${i - 1} sees ${j}`);
        }
        // Nor does the query see anything of the answer.
        seq.part.forEach((p, i) => {
          if (p !== 'query') return;
          seq.part.forEach((q, j) => q === 'answer' && assert.equal(bits[i * T + j], 0));
        });
      }),
      RUNS,
    );
  });

  test('embedding slots: content slots count their segments and items in order; experts follow the slots', () => {
    fc.assert(
      fc.property(sampleArb, (sample) => {
        const seq = buildSequence(sample);
        const given = [...sample.query, ...sample.answer];
        for (const kind of ['vision', 'state', 'action', 'motion'] as const) {
          const expected = given.filter((s) => contentKind(s) === kind).flatMap((s, k) => Array.from({ length: countOf(s) }, (_, item) => `${k}:${item}`));
          const got = [...slotPositions(seq, kind)].map((i) => `${seq.slots[i]!.segment}:${seq.slots[i]!.item}`);
          assert.deepEqual(got, expected, `${kind} slots`);
        }
        seq.slots.forEach((slot, i) => {
          assert.equal(seq.expert[i], expertOf(slot.kind));
          const owner = slot.kind === 'token' || slot.kind === 'vision' ? 'understanding' : 'action';
          assert.equal(seq.expert[i], owner, `position ${i} (${slot.kind})`);
          if (slot.kind === 'token') {
            const span = seq.segments[slot.segment]!;
            assert.equal(span.start + slot.item, i, 'a token slot names its segment and offset');
          }
        });
      }),
      RUNS,
    );
  });

  test('a custom tokenizer and special-token table are used as given', () => {
    const specials: SpecialTokens = { pad: 0, imageBegin: 1, imageEnd: 2, stateBegin: 3, stateEnd: 4, actionBegin: 5, actionEnd: 6, motionBegin: 7, motionEnd: 8 };
    const tokenize = (s: string): number[] => Array.from(s, (c) => 100 + c.codePointAt(0)!);
    fc.assert(
      fc.property(sampleArb, (sample) => {
        const seq = buildSequence(sample, { tokenize, specials });
        [...sample.query, ...sample.answer].forEach((seg, k) => {
          const span = seq.segments[k]!;
          if (seg.modality === 'text') {
            assert.deepEqual([...seq.tokenIds.subarray(span.start, span.end)], tokenize(seg.text as string));
          } else {
            assert.deepEqual([seq.tokenIds[span.start], seq.tokenIds[span.end - 1]], wrappers(span.content, specials));
          }
        });
      }),
      { numRuns: 30 },
    );
  });

  test('attention kinds: text causal, non-text segments full by default and causal on request', () => {
    const sample: QASample = {
      query: [{ modality: 'text', text: 'ab' }, { modality: 'vision', patches: 2 }, { modality: 'state' }],
      answer: [{ modality: 'action', steps: 3 }],
    };
    const full = buildSequence(sample);
    assert.deepEqual(full.segments.map((s) => s.attention), ['causal', 'full', 'full', 'full']);
    const causal = buildSequence(sample, { attention: { vision: 'causal', state: 'causal', action: 'causal' } });
    assert.deepEqual(causal.segments.map((s) => s.attention), ['causal', 'causal', 'causal', 'causal']);
    const T = causal.length;
    const bits = sequenceMask(causal).dataSync();
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) assert.equal(bits[i * T + j], j <= i ? 1 : 0, 'all-causal is the causal mask');
  });

  test('bad input throws at once, naming the function and the value', () => {
    const ok: Segment[] = [{ modality: 'text', text: 'x' }];
    assert.throws(() => buildSequence({ query: ok, answer: [{ modality: 'vision', patches: 2 }] }), /buildSequence: answer segment 0 is vision/);
    assert.throws(() => buildSequence({ query: ok, answer: [{ modality: 'state' }] }), /buildSequence: answer segment 0 is state/);
    assert.throws(() => buildSequence({ query: [{ modality: 'vision', patches: 0 }], answer: [] }), /buildSequence: query segment 0 \(vision\).*got 0/);
    assert.throws(() => buildSequence({ query: [{ modality: 'action', steps: 1.5 }], answer: [] }), /got 1\.5/);
    assert.throws(() => buildSequence({ query: [{ modality: 'text', text: [104, S.imageBegin] }], answer: [] }), /special token <img_begin> \(id 257\)/);
    assert.throws(() => buildSequence({ query: [{ modality: 'text', text: [-1] }], answer: [] }), /non-negative integers, got -1/);
    assert.throws(() => buildSequence({ query: ok, answer: [ok[0]!, { modality: 'action', steps: 0 }] }), /buildSequence: answer segment 1 \(action\).*got 0/);
    assert.throws(() => buildSequence({ query: [{ modality: 'audio' } as unknown as Segment], answer: [] }), /modality in \{vision, text, state, action\}/);
    assert.throws(() => buildSequence(ok as unknown as QASample), /buildSequence: query must be an array/);
    assert.throws(() => buildSequence({ query: ok, answer: [] }, { specials: { ...S, imageEnd: S.imageBegin } }), /share id 257/);
    assert.throws(() => buildSequence({ query: ok, answer: [] }, { attention: { vision: 'diagonal' as 'full' } }), /attention.vision must be 'causal' or 'full'/);
  });

  test('an empty sample gives an empty sequence', () => {
    const seq: UnifiedSequence = buildSequence({ query: [], answer: [] });
    assert.equal(seq.length, 0);
    assert.equal(seq.textLossIndices.length + seq.actionLossIndices.length, 0);
  });
});
