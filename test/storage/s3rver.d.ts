// The part of s3rver's API the storage tests use (the package ships no types).
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  import type { Server } from 'node:http';

  export interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    configureBuckets?: { name: string; configs: unknown[] }[];
  }

  /** One S3 event notification, as s3rver emits it on object writes and deletes. */
  export interface S3rverEvent {
    Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string; size?: number } } }[];
  }

  export default class S3rver {
    constructor(options: S3rverOptions);
    httpServer: Server;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    on(event: 'event', listener: (e: S3rverEvent) => void): this;
  }
}
