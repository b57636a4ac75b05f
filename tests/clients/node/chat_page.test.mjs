// The chat page (GET /) in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// no browser is ever downloaded): a streamed reply, the stop button, a second turn from the cache,
// safe rendering, the state download and a new chat. A screenshot lands in ANSER_ARTIFACT_DIR.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { AnserServer, textModel } from './anser_server.mjs';

const chromiumPath = '/usr/bin/chromium';
// Root needs --no-sandbox; a container's small /dev/shm can crash the renderer, hence
// --disable-dev-shm-usage; the others keep Chromium from reaching for any other host.
const chromiumFlags = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
// Two busy cores (the other CTest job is often a load test) slow a page's first layout.
const actionTimeoutMs = 60_000;
const idleTimeoutMs = 30_000;
const shortReply = 24;

let server;
let browser;

before(async () => {
  // The page sends no max_tokens: the server's large default makes every reply long enough to stop.
  server = await AnserServer.start(...textModel, '--parallel', '2', '--default-max-tokens', '1000000',
    '--max-tokens-limit', '1000000');
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
});

after(async () => {
  await browser?.close();
  assert.equal(await server.stop(), 0, 'anser serve stops cleanly on SIGTERM');
});

// The server frees an aborted stream's slot at its next step; nothing announces it, so this asks.
async function waitUntilIdle() {
  const deadline = Date.now() + idleTimeoutMs;
  for (;;) {
    const { active, queued } = await server.gauges();
    if (active === 0 && queued === 0) return;
    assert.ok(Date.now() < deadline, `requests still active (${active}) or queued (${queued})`);
    await new Promise((resolve) => { setTimeout(resolve, 20); });
  }
}

// Runs in the page: whether the last reply has more than `n` characters.
function replyLongerThan(n) {
  const replies = document.querySelectorAll('.message.assistant .text');
  return replies.length > 0 && replies[replies.length - 1].textContent.length > n;
}

test('chat page: stream, stop, cached second turn, state download, new chat', async () => {
  const page = await browser.newPage();
  page.setDefaultTimeout(actionTimeoutMs);
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error));
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => document.querySelector('#model').textContent === 'model.bf16');
  assert.ok(await page.isDisabled('#download-state'));

  // The page's requests go out with what each turn adds: token 0 (which ends a reply) biased away,
  // as the random model gives it some mass and the page sends no seed.
  const sent = [];
  let extra = { logit_bias: { 0: -100 } };
  await page.route('**/v1/chat/completions', async (route) => {
    const body = route.request().postDataJSON();
    sent.push({ body, session: route.request().headers()['x-session-id'] });
    await route.continue({ postData: JSON.stringify({ ...body, ...extra }) });
  });

  // Turn 1: markup in a message stays text; the reply streams in and the stop button ends it.
  const markup = 'Tell me a long story about <b>geese</b> & <img src=x onerror="window.injected = 1">.';
  await page.fill('#input', markup);
  await page.press('#input', 'Enter');
  assert.equal(await page.textContent('.message.user .text'), markup);
  assert.equal(await page.locator('#messages b, #messages img').count(), 0);
  const reply = page.locator('.message.assistant .text').last();
  await page.waitForFunction(replyLongerThan, 0);
  await page.waitForFunction(replyLongerThan, (await reply.textContent()).length);  // it grows: streamed
  assert.ok(await page.isEnabled('#stop'));
  assert.ok(await page.isDisabled('#send'));
  await page.click('#stop');
  await page.waitForFunction(() => document.querySelector('#stats').textContent === 'stopped');
  assert.ok(await page.isDisabled('#stop'));
  assert.ok(await page.isEnabled('#send'));
  await waitUntilIdle();
  const stopped = await reply.textContent();
  assert.ok(stopped.length > 0);

  // Turn 2: given a max_tokens so that it ends by itself, it reports the tokens it reused.
  sent.length = 0;
  extra = { ...extra, max_tokens: shortReply };
  await page.fill('#input', 'Now a short one about swans.');
  await page.click('#send');
  await page.waitForFunction(() => / cached$/.test(document.querySelector('#stats').textContent));
  const stats = /^(\d+) tokens, [\d.]+ tok\/s; prompt (\d+) tokens, (\d+) cached$/
    .exec(await page.textContent('#stats'));
  assert.ok(stats, `unexpected stats: ${await page.textContent('#stats')}`);
  const [completion, prompt, cached] = stats.slice(1).map(Number);
  assert.ok(completion > 0 && completion <= shortReply);
  assert.ok(cached > 0 && cached < prompt, `${cached} of ${prompt} prompt tokens cached`);
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].body.messages, [
    { role: 'user', content: markup }, { role: 'assistant', content: stopped },
    { role: 'user', content: 'Now a short one about swans.' }]);
  assert.equal(sent[0].body.stream, true);
  assert.match(sent[0].session, /^[0-9a-f]{24}$/);

  // The state after turn 2 downloads as a state file (a .pth: a zip archive).
  assert.ok(await page.isEnabled('#download-state'));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-state')]);
  assert.match(download.suggestedFilename(), /\.pth$/);
  const state = readFileSync(await download.path());
  assert.deepEqual([...state.subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04]);

  mkdirSync(process.env.ANSER_ARTIFACT_DIR, { recursive: true });
  await page.screenshot({ path: `${process.env.ANSER_ARTIFACT_DIR}/chat_page.png`, fullPage: true });

  await page.click('#new-chat');
  assert.equal(await page.locator('.message').count(), 0);
  assert.equal(await page.textContent('#stats'), '');
  assert.ok(await page.isDisabled('#download-state'));
  assert.equal(await page.evaluate(() => window.injected), undefined);
  assert.deepEqual(pageErrors, []);
});
