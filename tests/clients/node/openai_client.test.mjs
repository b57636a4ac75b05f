// anser serve through the official OpenAI Node client (npm openai 6.x): chat on the random World
// model, completions on the tiny byte-level model (token id = byte).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { AnserServer, byteModel, textModel } from './anser_server.mjs';

const question = [{ role: 'user', content: 'Write a short poem about geese.' }];

function clientFor(server) {
  // The SDKs need some key; retries are off so that every error reaches the test.
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

// Row `position` of a fixture case: the float64 reference logits after a prefix of its tokens.
function referenceRow(folder, caseName, position) {
  const dir = `${process.env.ANSER_SHARED_DIR}/fixtures/${folder}`;
  const spec = JSON.parse(readFileSync(`${dir}/cases.json`, 'utf8')).cases.find((c) => c.name === caseName);
  const nVocab = spec.shape[1];
  const bytes = readFileSync(`${dir}/${spec.logits}`);
  const logits = [];
  for (let i = 0; i < nVocab; ++i) logits.push(bytes.readFloatLE((position * nVocab + i) * 4));
  const top = Math.max(...logits);
  const lse = top + Math.log(logits.reduce((sum, x) => sum + Math.exp(x - top), 0));
  const mean = logits.reduce((a, b) => a + b, 0) / nVocab;
  const std = Math.sqrt(logits.reduce((sum, x) => sum + (x - mean) ** 2, 0) / nVocab);
  return {
    tokens: spec.tokens.slice(0, spec.positions[position] + 1),
    argmax: logits.indexOf(top),
    logprob: (token) => logits[token] - lse,
    // The fixtures' bar is 1e-4 x std per logit; a log-probability may differ by twice that.
    tolerance: 2e-4 * std + 1e-5,
  };
}

function assertClose(actual, expected, tolerance) {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} differs from ${expected} by more than ${tolerance}`);
}

// Per choice index: role deltas, content and finish reasons of a chat stream; and its usage chunk.
async function collectChat(stream) {
  const choices = new Map();
  const ids = new Set();
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    ids.add(chunk.id);
    if (chunk.choices.length === 0) {
      assert.equal(usage, null, 'one usage chunk');
      usage = chunk.usage;
      continue;
    }
    assert.equal(usage, null, 'the usage chunk comes last');
    for (const c of chunk.choices) {
      if (!choices.has(c.index)) choices.set(c.index, { roles: [], content: '', finishes: [] });
      const entry = choices.get(c.index);
      if (c.delta.role) entry.roles.push(c.delta.role);
      if (c.delta.content) entry.content += c.delta.content;
      if (c.finish_reason) entry.finishes.push(c.finish_reason);
    }
  }
  assert.equal(ids.size, 1, 'every chunk carries the same id');
  return { choices, usage };
}

describe('chat completions', () => {
  let server;
  let client;
  const model = 'model.bf16';
  const greedy = (extra = {}) => ({ model, messages: question, temperature: 0, max_tokens: 16, ...extra });

  before(async () => {
    server = await AnserServer.start(...textModel, '--parallel', '4');
    client = clientFor(server);
  });
  after(async () => assert.equal(await server.stop(), 0, 'anser serve stops cleanly on SIGTERM'));

  test('a greedy reply is typed and repeatable', async () => {
    const first = await client.chat.completions.create(greedy());
    const second = await client.chat.completions.create(greedy());
    assert.equal(first.object, 'chat.completion');
    assert.match(first.id, /^chatcmpl-/);
    assert.equal(first.model, model);
    assert.equal(first.choices.length, 1);
    const [choice] = first.choices;
    assert.equal(choice.message.role, 'assistant');
    assert.ok(choice.message.content.length > 0);
    assert.ok(['stop', 'length'].includes(choice.finish_reason));
    assert.equal(first.usage.total_tokens, first.usage.prompt_tokens + first.usage.completion_tokens);
    assert.equal(second.choices[0].message.content, choice.message.content);
    assert.equal(second.usage.prompt_tokens_details.cached_tokens, first.usage.prompt_tokens);
  });

  test('the stream helper accumulates the reply', async () => {
    const whole = await client.chat.completions.create(greedy());
    let deltas = '';
    // ChatCompletionStream throws on a chunk without a role or a choice without a finish_reason.
    const stream = client.chat.completions.stream(greedy());
    stream.on('content', (delta) => { deltas += delta; });
    const final = await stream.finalChatCompletion();
    assert.equal(deltas, whole.choices[0].message.content);
    assert.equal(final.choices[0].message.content, whole.choices[0].message.content);
    assert.equal(final.choices[0].finish_reason, whole.choices[0].finish_reason);
    assert.equal(await stream.finalContent(), whole.choices[0].message.content);
  });

  test('a raw stream opens with the role and ends with usage', async () => {
    const whole = await client.chat.completions.create(greedy());
    const { choices, usage } = await collectChat(
      await client.chat.completions.create(greedy({ stream: true, stream_options: { include_usage: true } })));
    assert.deepEqual([...choices.keys()], [0]);
    assert.deepEqual(choices.get(0), {
      roles: ['assistant'], content: whole.choices[0].message.content, finishes: [whole.choices[0].finish_reason],
    });
    assert.equal(usage.prompt_tokens, whole.usage.prompt_tokens);
    assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
  });

  test('seeded choices stream as they are returned whole', async () => {
    const request = { model, messages: question, temperature: 1, top_p: 1, seed: 4321, n: 2, max_tokens: 12 };
    const whole = await client.chat.completions.create(request);
    const final = await client.chat.completions.stream(request).finalChatCompletion();
    assert.deepEqual(final.choices.map((c) => c.index), [0, 1]);
    assert.deepEqual(final.choices.map((c) => c.message.content), whole.choices.map((c) => c.message.content));
    assert.deepEqual(final.choices.map((c) => c.finish_reason), whole.choices.map((c) => c.finish_reason));
    assert.notEqual(whole.choices[0].message.content, whole.choices[1].message.content);
  });

  test('errors raise the SDK error classes and the server goes on', async () => {
    await assert.rejects(client.chat.completions.create(greedy({ temperature: 3 })), (error) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.status, 400);
      assert.equal(error.param, 'temperature');
      return true;
    });
    await assert.rejects(client.chat.completions.create(greedy({ state: 'no-such-state' })), (error) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.equal(error.param, 'state');
      return true;
    });
    const after = await client.chat.completions.create(greedy({ max_tokens: 2 }));
    assert.equal(after.choices.length, 1);
  });
});

describe('completions', () => {
  let server;
  let client;
  const model = 'model.fp32';

  before(async () => {
    server = await AnserServer.start(...byteModel, '--parallel', '2');
    client = clientFor(server);
  });
  after(async () => assert.equal(await server.stop(), 0, 'anser serve stops cleanly on SIGTERM'));

  test('the next byte and its log-probability match the reference', async () => {
    const row = referenceRow('tiny-rwkv7-834K', 'hello', 20);
    const response = await client.completions.create(
      { model, prompt: row.tokens, max_tokens: 1, temperature: 0, logprobs: 1 });
    assert.equal(response.object, 'text_completion');
    assert.equal(response.usage.prompt_tokens, row.tokens.length);
    const [choice] = response.choices;
    assert.equal(choice.text, String.fromCharCode(row.argmax));
    assert.equal(choice.finish_reason, 'length');
    assertClose(choice.logprobs.token_logprobs[0], row.logprob(row.argmax), row.tolerance);
  });

  test('a stream equals the whole response', async () => {
    const request = { model, prompt: 'Once upon a time', max_tokens: 24, temperature: 0 };
    const whole = await client.completions.create(request);
    let text = '';
    const finishes = [];
    let usage = null;
    for await (const chunk of await client.completions.create(
      { ...request, stream: true, stream_options: { include_usage: true } })) {
      if (chunk.choices.length === 0) {
        usage = chunk.usage;
        continue;
      }
      text += chunk.choices[0].text;
      if (chunk.choices[0].finish_reason) finishes.push(chunk.choices[0].finish_reason);
    }
    assert.equal(text, whole.choices[0].text);
    assert.deepEqual(finishes, [whole.choices[0].finish_reason]);
    assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
  });
});
