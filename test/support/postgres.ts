// A throwaway PostgreSQL cluster for tests and benches: `initdb` into a temporary
// directory, `pg_ctl start` on a free loopback port (its socket in that directory
// too), and stopped and removed when the caller is done or the process exits.
// Never a mock, never skipped: without the binaries it fails with the command that
// installs them. PostgreSQL refuses to run as root, so under root (CI containers)
// the cluster runs as the `postgres` user (created by Debian's package) through runuser.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresCluster {
  /** The maintenance database's URL (superuser `postgres`, trust auth on loopback). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** A new empty database on this cluster, for one test; returns its URL. */
  createDatabase(label?: string): Promise<string>;
  stop(): void;
}

export interface ClusterOptions {
  /**
   * false (default) turns fsync and synchronous commit off: tests kill processes, not
   * machines, so they lose nothing, and run faster. Benches pass true to measure a
   * cluster configured as in production.
   */
  readonly durable?: boolean;
}

const INSTALL_HINT =
  'Install them with `sudo apt-get install -y postgresql` (Debian/Ubuntu; .ci/run does this), or set PG_BIN to the directory holding initdb and pg_ctl.';

/** The directory holding initdb and pg_ctl: $PG_BIN, else the newest /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'initdb'))) throw new Error(`PG_BIN=${fromEnv} holds no initdb. ${INSTALL_HINT}`);
    return fromEnv;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`The PostgreSQL tests need a real PostgreSQL server, and no initdb was found under ${root}. ${INSTALL_HINT}`);
  return join(root, versions[0]!, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
function runAsOwner(bin: string, args: readonly string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, [...args]];
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.error) throw new Error(`Could not run ${cmd}: ${r.error.message}${asRoot ? ' (as root, the cluster runs as the postgres user through runuser)' : ''}.`);
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

function ownerIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
      gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
    };
  } catch {
    throw new Error(
      'Running as root, the PostgreSQL tests run the cluster as the `postgres` user, which does not exist. Installing `postgresql` creates it, or: useradd --system postgres.',
    );
  }
}

/** Starts a new cluster; call stop() when done (it is also stopped when the process exits). */
export async function startPostgres(options: ClusterOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'pjm-pg-'));
  const owner = ownerIds();
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chmodSync(dir, 0o700);
  }
  const dataDir = join(dir, 'data');
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    // Immediate: nothing in a throwaway cluster needs a clean shutdown checkpoint.
    if (existsSync(join(dataDir, 'postmaster.pid'))) spawnSync(...asOwnerArgs(owner, join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w']));
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  try {
    runAsOwner(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
    const settings = [
      '-c listen_addresses=127.0.0.1',
      `-k ${dir}`,
      '-c max_connections=200',
      ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ];
    // A port found free may be taken before the server binds it: try a few.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        runAsOwner(join(bin, 'pg_ctl'), ['start', '-D', dataDir, '-w', '-t', '60', '-l', join(dir, 'server.log'), '-o', `-p ${port} ${settings.join(' ')}`]);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let made = 0;
    return {
      url,
      port,
      dataDir,
      stop,
      async createDatabase(label = 'test') {
        const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${++made}`;
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
    };
  } catch (err) {
    stop();
    throw err;
  }
}

function asOwnerArgs(owner: { uid: number; gid: number } | undefined, bin: string, args: string[]): [string, string[], { encoding: 'utf8' }] {
  return owner ? ['runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8' }] : [bin, args, { encoding: 'utf8' }];
}

/** Runs `sql` (with `params`) on the database at `url` through a connection of its own, closed after. */
export async function execOn(url: string, sql: string, params: readonly unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql, params as unknown[]);
  } finally {
    await client.end();
  }
}
