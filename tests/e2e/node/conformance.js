// Drives an aftershock proxy API through the toxiproxy-node-client package, checking every response.
// Usage: node conformance.js API_URL UPSTREAM_ADDRESS  (an echo server on loopback)
"use strict";

const assert = require("node:assert/strict");
const net = require("node:net");
const { Toxiproxy } = require("toxiproxy-node-client");

const [apiUrl, upstream] = process.argv.slice(2);
const toxiproxy = new Toxiproxy(apiUrl);

function step(name) {
  console.log(`step: ${name}`);
}

// Resolves to the HTTP status in the client's error message, or fails if the call succeeded.
async function statusOf(promise) {
  try {
    await promise;
  } catch (error) {
    const match = /status code (\d+)/.exec(error.message);
    assert.ok(match, `unexpected error: ${error.message}`);
    return Number(match[1]);
  }
  assert.fail("the request succeeded; an error status was expected");
}

function portOf(listen) {
  return Number(listen.slice(listen.lastIndexOf(":") + 1));
}

// Sends a message through the proxy and resolves to what came back, or rejects.
function echo(port, message) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let received = "";
    socket.setTimeout(5000, () => reject(new Error("echo timed out")));
    socket.on("connect", () => socket.write(message));
    socket.on("data", (data) => {
      received += data.toString();
      if (received.length >= message.length) {
        socket.end();
        resolve(received);
      }
    });
    socket.on("error", reject);
  });
}

const TOXICS = [
  { type: "latency", attributes: { latency: 100, jitter: 10 }, change: { latency: 50 } },
  { type: "bandwidth", attributes: { rate: 1000 }, change: { rate: 2000 } },
  { type: "slow_close", attributes: { delay: 100 }, change: { delay: 200 } },
  { type: "timeout", attributes: { timeout: 1000 }, change: { timeout: 0 } },
  { type: "reset_peer", attributes: { timeout: 1000 }, change: { timeout: 500 } },
  { type: "slicer", attributes: { average_size: 64, size_variation: 8, delay: 100 },
    change: { delay: 200 } },
  { type: "limit_data", attributes: { bytes: 1000 }, change: { bytes: 2000 } },
  { type: "noop", attributes: {}, change: {} },
];

async function checkToxics(proxy) {
  for (const spec of TOXICS) {
    step(`toxic ${spec.type}: add, get, update, duplicate, remove, missing`);
    const stream = spec.type === "bandwidth" ? "upstream" : "downstream";
    const toxic = await proxy.addToxic({
      name: `${spec.type}-toxic`, type: spec.type, stream, toxicity: 0.75,
      attributes: spec.attributes,
    });
    assert.equal(toxic.name, `${spec.type}-toxic`);
    assert.equal(toxic.type, spec.type);
    assert.equal(toxic.stream, stream);
    assert.equal(toxic.toxicity, 0.75);
    assert.deepEqual(toxic.attributes, spec.attributes);

    const fetched = await proxy.getToxic(toxic.name);
    assert.deepEqual(fetched.toJson(), toxic.toJson());

    const updated = await toxic.update({ ...toxic.toJson(), toxicity: 0.5,
      attributes: { ...spec.attributes, ...spec.change } });
    assert.equal(updated.toxicity, 0.5);
    assert.deepEqual(updated.attributes, { ...spec.attributes, ...spec.change });

    assert.equal(await statusOf(proxy.addToxic(toxic.toJson())), 409);
    await toxic.remove();
    assert.equal(await statusOf(proxy.getToxic(toxic.name)), 404);
    assert.equal(await statusOf(toxic.remove()), 404);
  }

  step("toxic with default name and stream");
  const defaulted = await proxy.addToxic({ type: "latency", attributes: { latency: 1 } });
  assert.equal(defaulted.name, "latency_downstream");
  assert.equal(defaulted.stream, "downstream");
  assert.equal(defaulted.toxicity, 1);
  await defaulted.remove();

  step("toxic rejected: unknown type, nonsense attributes");
  assert.equal(await statusOf(proxy.addToxic({ type: "nonsense", attributes: {} })), 400);
  assert.equal(await statusOf(proxy.addToxic({ type: "bandwidth", attributes: { rate: 0 } })),
               400);
}

async function main() {
  step("version");
  const version = JSON.parse(await toxiproxy.getVersion());
  assert.equal(typeof version.version, "string");

  step("create");
  const proxy = await toxiproxy.createProxy({ name: "conformance", listen: "127.0.0.1:0",
                                              upstream });
  assert.equal(proxy.name, "conformance");
  assert.equal(proxy.upstream, upstream);
  assert.equal(proxy.enabled, true);
  assert.ok(portOf(proxy.listen) > 0);
  assert.equal(await echo(portOf(proxy.listen), "hello"), "hello");

  step("create duplicate is 409");
  assert.equal(await statusOf(toxiproxy.createProxy({ name: "conformance", listen: "127.0.0.1:0",
                                                       upstream })), 409);

  step("get and missing get is 404");
  const fetched = await toxiproxy.get("conformance");
  assert.deepEqual(fetched.toJson(), proxy.toJson());
  assert.equal(await statusOf(toxiproxy.get("missing")), 404);

  step("list");
  const all = await toxiproxy.getAll();
  assert.deepEqual(Object.keys(all), ["conformance"]);

  step("update: disable and re-enable");
  const disabled = await proxy.update({ ...proxy.toJson(), enabled: false });
  assert.equal(disabled.enabled, false);
  await assert.rejects(echo(portOf(proxy.listen), "x"), /ECONNREFUSED/);
  const enabled = await disabled.update({ ...disabled.toJson(), enabled: true });
  assert.equal(enabled.enabled, true);
  assert.equal(enabled.listen, proxy.listen);
  assert.equal(await echo(portOf(enabled.listen), "again"), "again");

  await checkToxics(enabled);

  step("populate: create and keep unchanged toxics");
  await enabled.addToxic({ name: "kept", type: "latency", attributes: { latency: 1 } });
  const populated = await toxiproxy.populate([
    { name: "conformance", listen: enabled.listen, upstream },
    { name: "second", listen: "127.0.0.1:0", upstream },
  ]);
  assert.deepEqual(Object.keys(populated).sort(), ["conformance", "second"]);
  assert.equal((await populated.conformance.getToxic("kept")).name, "kept");
  assert.equal(await echo(portOf(populated.second.listen), "two"), "two");
  assert.equal(await statusOf(toxiproxy.populate([{ name: "no-upstream" }])), 400);

  step("reset: re-enables proxies and removes toxics");
  await populated.second.update({ ...populated.second.toJson(), enabled: false });
  await toxiproxy.reset();
  const afterReset = (await toxiproxy.getApi().get(`${apiUrl}/proxies`)).data;
  assert.equal(afterReset.second.enabled, true);
  assert.deepEqual(afterReset.conformance.toxics, []);

  step("delete and missing delete is 404");
  await populated.second.remove();
  assert.equal(await statusOf(toxiproxy.get("second")), 404);
  assert.equal(await statusOf(populated.second.remove()), 404);
  await (await toxiproxy.get("conformance")).remove();
  assert.deepEqual(Object.keys(await toxiproxy.getAll()), []);

  console.log("conformance: all steps passed");
}

main().catch((error) => {
  console.error(`conformance failed: ${error.stack || error}`);
  process.exit(1);
});
