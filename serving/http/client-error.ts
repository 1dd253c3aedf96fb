// Answers what Node's HTTP parser refuses before any middleware sees it (a method token it
// does not know, such as FOO; a malformed request line or header; headers over the size
// limit) with the same JSON error body as every other error, instead of Node's bare
// "400 Bad Request" with no body. The connection is closed: the parser cannot go on.
import type { Socket } from 'node:net';

interface ParserError extends Error {
  readonly code?: string;
}

export function answerClientError(err: ParserError, socket: Socket): void {
  // The client is gone, or a response on this socket has begun (answering would corrupt it):
  // nothing to answer. (Node's own check; a kept-alive socket has earlier responses behind it.)
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
  const message =
    status === 431
      ? 'The request headers are larger than the server accepts; send fewer or shorter headers.'
      : `The server could not parse the request (${err.code ?? 'malformed request'}): check the method (GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE), the request line and the headers.`;
  const body = JSON.stringify({ error: { code: 'bad_request', message, requestId: '' } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
  );
}
