// Runs `anser serve` on a free loopback port for the tests, and stops it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const shared = process.env.ANSER_SHARED_DIR;
export const textModel = ['-m', `${shared}/fixtures/rand-rwkv7-L3-D128-world/model.bf16.pth`,
  '--vocab', `${shared}/vocab/rwkv_vocab_v20230424.txt`];
export const byteModel = ['-m', `${shared}/fixtures/tiny-rwkv7-834K/model.fp32.pth`];

const startTimeoutMs = 120_000;
const stopTimeoutMs = 5_000;  // the issue: SIGTERM ends the server within 5 seconds

export class AnserServer {
  // Resolves once the server's stderr says "model ready:".
  static async start(...args) {
    const child = spawn(process.env.ANSER_BINARY,
      ['serve', '--host', '127.0.0.1', '--port', '0', '--threads', '1', ...args],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new AnserServer(child);
    await server.#ready;
    return server;
  }

  log = [];
  url = null;
  #ready;

  constructor(child) {
    this.child = child;
    // The server logs every request on stderr: it is read to the end, or the pipe would fill.
    const lines = createInterface({ input: child.stderr });
    this.#ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`anser serve did not become ready:\n${this.logText()}`)),
        startTimeoutMs);
      lines.on('line', (line) => {
        this.log.push(line);
        const listening = /^listening on (http:\/\/\S+:\d+)$/.exec(line);
        if (listening) this.url = listening[1];
        if (line.startsWith('model ready:')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`anser serve exited (${code}) before it was ready:\n${this.logText()}`));
      });
    });
  }

  logText() {
    return this.log.slice(-40).join('\n');
  }

  // SIGTERM; resolves to the exit status (null when the server had to be killed).
  async stop() {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(resolve, stopTimeoutMs, null); });
    const result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (result !== null) return result[0];
    this.child.kill('SIGKILL');
    await exited;
    return null;
  }

  // The server's active and queued request counts, from /metrics.
  async gauges() {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)[1]);
    return { active: value('anser_requests_active'), queued: value('anser_requests_queued') };
  }
}
