import type { Server as HttpServer } from "node:http";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import type { Server as TlsServer } from "node:tls";

/**
 * One port that speaks HTTPS and plain HTTP: the first byte of a connection tells a TLS
 * handshake (0x16) from a request line. Registry clients differ (buildah tries HTTPS first and
 * may fall back; docker treats loopback as plain HTTP), and both must reach the same registry.
 */
export function dualProtocolServer(https: TlsServer, http: HttpServer): Server {
  return createNetServer((socket: Socket) => {
    socket.once("readable", () => {
      const head: Buffer | null = socket.read(1);
      if (!head) {
        socket.destroy();
        return;
      }
      socket.unshift(head);
      const target = head[0] === 0x16 ? https : http;
      target.emit("connection", socket);
    });
  });
}
