// A real S3-compatible server (s3rver, objects on disk) on loopback for the
// storage tests, with what the tests observe: the S3 event notifications it
// emits (which say whether an object came from a plain PUT or a completed
// multipart upload), the requests it received, and a way to stop it hard, as a
// crashed store would, and to start it again on the same port and data.
import type { IncomingMessage } from 'node:http';
import S3rver from 's3rver';
import { S3Storage, type S3StorageOptions } from '../../runtime/storage/s3.ts';
import { tempDir } from '../support/tmp.ts';

// s3rver's built-in account. The storage reads them through the SDK's default chain.
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
// The SDK warns once per process that Node 20 support ends in 2027; not the tests' business.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface ObjectEvent {
  /** `ObjectCreated:Put` (one request), `ObjectCreated:Post` (completed multipart upload), `ObjectRemoved:Delete`. */
  readonly name: string;
  readonly key: string;
}

export interface RequestSeen {
  readonly method: string;
  /** Path and query, e.g. `/bucket/key?partNumber=2&uploadId=...`. */
  readonly url: string;
}

export class TestS3Server {
  readonly events: ObjectEvent[] = [];
  readonly requests: RequestSeen[] = [];
  /** Called for each request as it arrives, before s3rver handles it. */
  onRequest: ((req: IncomingMessage) => void) | undefined;
  private server: S3rver | undefined;
  private portNumber = 0;

  private constructor(
    readonly bucket: string,
    readonly directory: string,
  ) {}

  static async start(bucket = 'assets'): Promise<TestS3Server> {
    const s = new TestS3Server(bucket, tempDir('s3rver'));
    await s.restart();
    return s;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Starts the server (again), on the same port once it has one, over the same stored objects. */
  async restart(): Promise<void> {
    if (this.server) throw new Error('the test S3 server is already running');
    const server = new S3rver({
      address: '127.0.0.1',
      port: this.portNumber,
      silent: true,
      directory: this.directory,
      configureBuckets: [{ name: this.bucket, configs: [] }],
    });
    server.on('event', (e) => {
      for (const r of e.Records) this.events.push({ name: r.eventName, key: decodeURIComponent(r.s3.object.key) });
    });
    const address = await server.run();
    this.portNumber = address.port;
    server.httpServer.prependListener('request', (req: IncomingMessage) => {
      this.requests.push({ method: req.method ?? '', url: req.url ?? '' });
      this.onRequest?.(req);
    });
    this.server = server;
  }

  /** Stops at once: no new connections, and every open one (requests in flight included) is cut. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = server.close();
    server.httpServer.closeAllConnections();
    await closed;
  }

  /** Requests for one object key (any method), to count uploads, parts and downloads. */
  requestsFor(key: string): RequestSeen[] {
    const path = `/${this.bucket}/${key}`;
    return this.requests.filter((r) => decodeURIComponent(r.url.split('?')[0]!) === path);
  }

  /** An S3Storage on this server, with its own fresh cache directory unless one is given. */
  storage(options: Partial<S3StorageOptions> = {}): S3Storage {
    return new S3Storage({ bucket: this.bucket, region: 'us-east-1', endpoint: this.endpoint, cacheDir: tempDir('s3cache'), ...options });
  }
}
