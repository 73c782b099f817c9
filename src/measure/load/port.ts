// A free loopback port for a load scenario's {port}: the kernel picks one, we let it go, the
// service binds it. (Another process could take it in between; the readiness check would then
// fail with the service's own "address in use" in its output.)
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port was assigned"))));
    });
  });
}

/** `{port}` substituted (and `{i}` left for the driver). */
export function withPort(text: string, port: number): string {
  return text.replaceAll("{port}", String(port));
}
