// A throwaway Mosquitto 2 on an ephemeral port for the simulator tests: anonymous, with persistence in a temp dir so
// a subscriber's persistent session (and its queued QoS 1 messages) survives a broker stop/start.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function mosquittoBinary(): string | undefined {
  // SPECFLEET_TEST_MOSQUITTO_BIN first (what .ci/run exports, from infra/mosquitto.sh bin), then the usual paths.
  return [process.env['SPECFLEET_TEST_MOSQUITTO_BIN'], '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto'].find((p): p is string => !!p && existsSync(p));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly binary: string,
  ) {}

  static async start(): Promise<Mosquitto> {
    const binary = mosquittoBinary();
    if (!binary) throw new Error('mosquitto is not installed (infra/mosquitto.sh install)');
    const dir = await mkdtemp(join(tmpdir(), 'specfleet-sim-mosquitto-'));
    const m = new Mosquitto(await freePort(), dir, binary);
    const conf = [
      `listener ${m.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'max_queued_messages 100000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
    ];
    // As root, mosquitto drops to the `mosquitto` user unless told to stay: keep it ours (the temp dir is ours).
    if (process.getuid?.() === 0) conf.push('user root');
    await writeFile(join(dir, 'mosquitto.conf'), `${conf.join('\n')}\n`);
    await m.resume();
    return m;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port with the same persistence. */
  async resume(): Promise<void> {
    const child = spawn(this.binary, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child = child;
    await waitForPort(this.port, 10_000);
  }

  /** Stops the broker process (SIGTERM: it closes every connection and saves its persistence). */
  async halt(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async stop(): Promise<void> {
    await this.halt();
    await rm(this.dir, { recursive: true, force: true });
  }
}
