#!/usr/bin/env node
/**
 * A small keep-alive HTTP(S) load generator, for what wrk cannot do here: wrk 4.1 waits for a
 * body after a HEAD answer that carries Content-Length, so HEAD of a blob never completes.
 *
 *   node bench/load.js --url URL [--method HEAD] [--connections 8] [--seconds 5]
 *                      [--auth-file FILE] [--ca FILE]
 *
 * --auth-file holds "user:password" (kept out of the process list). N connections each send
 * requests back to back on one kept-alive socket for the given time. Prints one JSON line:
 * {"requests", "seconds", "rps", "statuses": {"200": n, ...}, "errors", "sockets"}.
 */
"use strict";
const fs = require("fs");
const http = require("http");
const https = require("https");

function args(argv) {
    const out = { method: "GET", connections: 8, seconds: 5 };
    for (let i = 2; i < argv.length; i += 2) {
        const key = argv[i].replace(/^--/, "");
        out[key.replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = argv[i + 1];
    }
    if (!out.url) throw new Error("--url is required");
    out.connections = Number(out.connections);
    out.seconds = Number(out.seconds);
    return out;
}

async function main() {
    const opt = args(process.argv);
    const url = new URL(opt.url);
    const secure = url.protocol === "https:";
    const lib = secure ? https : http;
    const agent = new lib.Agent({
        keepAlive: true,
        maxSockets: opt.connections,
        ...(secure && opt.ca ? { ca: fs.readFileSync(opt.ca) } : {}),
    });
    const headers = {};
    if (opt.authFile) {
        headers.Authorization = "Basic " + Buffer.from(fs.readFileSync(opt.authFile, "utf8").trim()).toString("base64");
    }
    const statuses = {};
    const sockets = new Set();
    let requests = 0;
    let errors = 0;
    const one = () =>
        new Promise((resolve) => {
            const req = lib.request(url, { method: opt.method, agent, headers }, (res) => {
                sockets.add(res.socket);
                res.on("end", () => resolve(res.statusCode));
                res.resume();
            });
            req.on("error", () => resolve(0));
            req.end();
        });
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(opt.seconds * 1e9));
    const worker = async () => {
        while (process.hrtime.bigint() < deadline) {
            const status = await one();
            if (process.hrtime.bigint() > deadline) break; // count only answers inside the window
            if (status === 0) errors++;
            else {
                requests++;
                statuses[status] = (statuses[status] || 0) + 1;
            }
        }
    };
    await Promise.all(Array.from({ length: opt.connections }, worker));
    const seconds = opt.seconds;
    agent.destroy();
    process.stdout.write(JSON.stringify({ requests, seconds, rps: requests / seconds, statuses, errors, sockets: sockets.size }) + "\n");
}

main().catch((err) => {
    process.stderr.write(`load.js: ${err.message}\n`);
    process.exit(1);
});
