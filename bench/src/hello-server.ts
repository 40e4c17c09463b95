/** Fastify's hello world, the yardstick for the HTTP figures: same machine, same client, no logging. */
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/", async () => ({ hello: "world" }));
const url = await app.listen({ host: "127.0.0.1", port: 0 });
console.log(`hello-server listening on ${url}`);
process.on("SIGTERM", () => {
  void app.close().then(() => process.exit(0));
});
