#!/usr/bin/env node
/**
 * Turns bench/results/raw.csv (every sample of a bench/run.sh run) and meta.json into
 * summary.json, the CSV tables, throughput.svg, and the generated blocks of BENCHMARKS.md
 * (between `<!-- BEGIN bench:NAME -->` and `<!-- END bench:NAME -->`; the prose around them
 * is left alone).
 *
 *   node bench/report.js [RESULTS_DIR] [BENCHMARKS_MD]
 */
"use strict";
const fs = require("fs");
const path = require("path");

const resultsDir = path.resolve(process.argv[2] || path.join(__dirname, "results"));
const mdFile = path.resolve(process.argv[3] || path.join(__dirname, "..", "BENCHMARKS.md"));

// ---------------------------------------------------------------------------------------------
// data

const rows = fs
    .readFileSync(path.join(resultsDir, "raw.csv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => {
        const [section, variant, metric, param, rep, value, unit] = line.split(",");
        return { section, variant, metric, param, rep: Number(rep), value: Number(value), unit };
    });
const meta = JSON.parse(fs.readFileSync(path.join(resultsDir, "meta.json"), "utf8"));

const median = (xs) => {
    if (!xs.length) return undefined;
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const samples = (section, variant, metric, param = "") =>
    rows.filter((r) => r.section === section && r.variant === variant && r.metric === metric && r.param === String(param));
const values = (...a) => samples(...a).map((r) => r.value);
const med = (...a) => median(values(...a));
const byRep = (...a) => new Map(samples(...a).map((r) => [r.rep, r.value]));
const unique = (xs) => [...new Set(xs)];

const f = (v, d = 2) => (v === undefined || Number.isNaN(v) ? "–" : v.toFixed(d));
const f0 = (v) => f(v, 0);
const range = (xs, d = 2) => (xs.length ? (xs.length > 1 ? `${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)}` : f(xs[0], d)) : "–");

/** Per-repetition ratios of one variant's samples to another's (each repetition measures both). */
const pairedRatios = (section, variant, base, metric, param = "") => {
    const t = byRep(section, variant, metric, param);
    const d = byRep(section, base, metric, param);
    return [...t.keys()].filter((k) => d.has(k)).map((k) => t.get(k) / d.get(k));
};
/** Per-repetition ratios of a target to the direct path (the samples are interleaved). */
const ratios = (target, metric, size) => pairedRatios("throughput", target, "direct", metric, size);

// ---------------------------------------------------------------------------------------------
// summary

const sizes = unique(rows.filter((r) => r.section === "throughput").map((r) => Number(r.param))).sort((a, b) => a - b);
const targets = unique(rows.filter((r) => r.section === "throughput").map((r) => r.variant));
const statics = ["tls-static", "plain-static"];
const orderedTargets = [
    "direct",
    "proxy",
    ...targets.filter((t) => t !== "direct" && t !== "proxy" && !statics.includes(t)),
    ...statics,
].filter((t) => targets.includes(t));

const throughput = [];
for (const size of sizes) {
    for (const target of orderedTargets) {
        const up = ratios(target, "upload_mibps", size);
        const down = ratios(target, "download_mibps", size);
        throughput.push({
            sizeMiB: size,
            target,
            uploadMiBps: med("throughput", target, "upload_mibps", size),
            downloadMiBps: med("throughput", target, "download_mibps", size),
            uploadRatio: target === "direct" ? 1 : median(up),
            uploadMeasured: up.length > 0 || target === "direct",
            downloadRatio: target === "direct" ? 1 : median(down),
            uploadRatioRange: up,
            downloadRatioRange: down,
            n: Math.max(
                values("throughput", target, "upload_mibps", size).length,
                values("throughput", target, "download_mibps", size).length,
            ),
        });
    }
}

// What resolving the registry per request costs: the proxy against the config before it
// (bench/variants/static-upstream.conf), as ratios proxy / static upstream per repetition.
const perRequestResolution = sizes
    .map((size) => {
        const up = pairedRatios("throughput", "proxy", "static-upstream", "upload_mibps", size);
        const down = pairedRatios("throughput", "proxy", "static-upstream", "download_mibps", size);
        return { sizeMiB: size, uploadRatio: median(up), downloadRatio: median(down), uploadRatioRange: up, downloadRatioRange: down };
    })
    .filter((r) => r.uploadRatio !== undefined || r.downloadRatio !== undefined);

const costs = unique(rows.filter((r) => r.section === "rate" && r.variant === "proxy").map((r) => Number(r.param))).sort((a, b) => a - b);
const rate = costs.map((cost) => {
    const get = med("rate", "proxy", "get_v2_rps", cost);
    const vsStatic = pairedRatios("rate", "proxy", "proxy-static-upstream", "get_v2_rps", cost);
    return {
        cost,
        getV2Rps: get,
        getV2RpsRange: values("rate", "proxy", "get_v2_rps", cost),
        headBlobRps: med("rate", "proxy", "head_blob_rps", cost),
        headBlobRpsRange: values("rate", "proxy", "head_blob_rps", cost),
        staticUpstreamGetV2Rps: med("rate", "proxy-static-upstream", "get_v2_rps", cost),
        staticUpstreamGetV2RpsRange: values("rate", "proxy-static-upstream", "get_v2_rps", cost),
        getV2RatioVsStaticUpstream: median(vsStatic),
        getV2RatioVsStaticUpstreamRange: vsStatic,
        latency1ConnMs: med("rate", "proxy", "get_v2_latency_1conn_ms", cost),
        upAfterCostChangeS: med("deploy", "pulumi", "up_after_cost_change", cost),
    };
});
const costSizes = unique(rows.filter((r) => r.section === "throughput_by_cost").map((r) => Number(r.param.split("/")[1]))).sort(
    (a, b) => a - b,
);
const pairRatios = (metric, param) => {
    const t = byRep("throughput_by_cost", "proxy", metric, param);
    const d = byRep("throughput_by_cost", "direct", metric, param);
    return [...t.keys()].filter((k) => d.has(k)).map((k) => t.get(k) / d.get(k));
};
const throughputByCost = costs
    .flatMap((cost) =>
        costSizes.map((size) => ({
            cost,
            sizeMiB: size,
            proxyUploadMiBps: med("throughput_by_cost", "proxy", "upload_mibps", `${cost}/${size}`),
            proxyDownloadMiBps: med("throughput_by_cost", "proxy", "download_mibps", `${cost}/${size}`),
            uploadRatio: median(pairRatios("upload_mibps", `${cost}/${size}`)),
            downloadRatio: median(pairRatios("download_mibps", `${cost}/${size}`)),
            uploadRatioRange: pairRatios("upload_mibps", `${cost}/${size}`),
            downloadRatioRange: pairRatios("download_mibps", `${cost}/${size}`),
        })),
    )
    .filter((r) => r.uploadRatio !== undefined);
const baselines = {
    directGetV2Rps: med("rate", "direct", "get_v2_rps"),
    directHeadBlobRps: med("rate", "direct", "head_blob_rps"),
    proxyHealthzRps: med("rate", "proxy_noauth", "get_healthz_rps"),
};

const pushCosts = unique(rows.filter((r) => r.section === "push").map((r) => Number(r.param))).sort((a, b) => a - b);
const reqCount = (label, cost, what) => med("push", label, `requests_${what}`, cost);
const methods = unique(rows.filter((r) => r.section === "push" && /^requests_[A-Z]+$/.test(r.metric)).map((r) => r.metric.slice(9))).sort();
const push = pushCosts.map((cost) => ({
    cost,
    pushS: med("push", "bcrypt", "push_s", cost),
    pullS: med("push", "bcrypt", "pull_s", cost),
    push: {
        total: reqCount("push", cost, "total"),
        withCredentials: reqCount("push", cost, "with_credentials"),
        unauthorized: reqCount("push", cost, "401"),
        byMethod: Object.fromEntries(methods.map((m) => [m, reqCount("push", cost, m) || 0])),
    },
    pull: {
        total: reqCount("pull", cost, "total"),
        withCredentials: reqCount("pull", cost, "with_credentials"),
        unauthorized: reqCount("pull", cost, "401"),
        byMethod: Object.fromEntries(methods.map((m) => [m, reqCount("pull", cost, m) || 0])),
    },
}));

const dm = (variant, metric) => ({ median: med("deploy", variant, metric), samples: values("deploy", variant, metric) });
const deploy = {
    pulumiUpFromNothing: dm("pulumi", "up_from_nothing"),
    healthWaitRegistry: dm("pulumi", "health_wait_registry"),
    healthWaitProxy: dm("pulumi", "health_wait_proxy"),
    pulumiDestroy: dm("pulumi", "destroy"),
    pulumiPreviewNoop: dm("pulumi", "preview_noop"),
    pulumiUpAfterPasswordChange: dm("pulumi", "up_after_password_change"),
    composeUpD: dm("compose", "up_d"),
    composeUpUntilAnswer: dm("compose", "up_until_answer"),
    composeDown: dm("compose", "down"),
};
const unit = {
    cold: values("unit", "jest", "wall_cold"),
    warm: { median: med("unit", "jest", "wall_warm"), samples: values("unit", "jest", "wall_warm") },
};
const wall = med("run", "all", "wall");

// Targets of issue 5.
const proxyRows = throughput.filter((t) => t.target === "proxy");
const verdict = (ok) => (ok === undefined ? "not measured" : ok ? "**met**" : "**missed**");
const allMeet = (xs, key, min) => (xs.length ? xs.every((x) => x[key] >= min) : undefined);
const targetsMet = [
    {
        target: "proxy upload ≥ 0.9 of direct",
        measured: proxyRows.map((t) => `${t.sizeMiB} MiB: ${f(t.uploadRatio)}`).join(", "),
        met: allMeet(proxyRows, "uploadRatio", 0.9),
    },
    {
        target: "proxy download ≥ 0.8 of direct",
        measured: proxyRows.map((t) => `${t.sizeMiB} MiB: ${f(t.downloadRatio)}`).join(", "),
        met: allMeet(proxyRows, "downloadRatio", 0.8),
    },
    {
        target: "pulumi up from nothing ≤ 4 × docker-compose up -d",
        measured:
            deploy.pulumiUpFromNothing.median !== undefined && deploy.composeUpD.median !== undefined
                ? `${f(deploy.pulumiUpFromNothing.median, 1)} s vs 4 × ${f(deploy.composeUpD.median)} s = ${f(4 * deploy.composeUpD.median, 1)} s (${f(deploy.pulumiUpFromNothing.median / deploy.composeUpD.median, 1)}×)`
                : "–",
        met:
            deploy.pulumiUpFromNothing.median !== undefined && deploy.composeUpD.median !== undefined
                ? deploy.pulumiUpFromNothing.median <= 4 * deploy.composeUpD.median
                : undefined,
    },
    {
        target: "no-op pulumi preview < 5 s",
        measured: deploy.pulumiPreviewNoop.median !== undefined ? `${f(deploy.pulumiPreviewNoop.median)} s` : "–",
        met: deploy.pulumiPreviewNoop.median !== undefined ? deploy.pulumiPreviewNoop.median < 5 : undefined,
    },
];

const summary = {
    meta,
    wallSeconds: wall,
    throughput,
    perRequestResolution,
    throughputByCost,
    rate,
    baselines,
    push,
    deploy,
    unit,
    targets: targetsMet,
};
fs.writeFileSync(path.join(resultsDir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");

// ---------------------------------------------------------------------------------------------
// CSV tables

const csv = (file, header, lines) =>
    fs.writeFileSync(path.join(resultsDir, file), [header.join(","), ...lines.map((l) => l.join(","))].join("\n") + "\n");
csv(
    "throughput.csv",
    ["size_mib", "target", "upload_mibps", "download_mibps", "upload_ratio_vs_direct", "download_ratio_vs_direct", "samples"],
    throughput.map((t) => [
        t.sizeMiB,
        t.target,
        f(t.uploadMiBps, 1),
        f(t.downloadMiBps, 1),
        f(t.uploadRatio, 3),
        f(t.downloadRatio, 3),
        t.n,
    ]),
);
csv(
    "throughput_by_cost.csv",
    ["bcrypt_cost", "size_mib", "proxy_upload_mibps", "proxy_download_mibps", "upload_ratio_vs_direct", "download_ratio_vs_direct"],
    throughputByCost.map((t) => [
        t.cost,
        t.sizeMiB,
        f(t.proxyUploadMiBps, 1),
        f(t.proxyDownloadMiBps, 1),
        f(t.uploadRatio, 3),
        f(t.downloadRatio, 3),
    ]),
);
csv(
    "rate.csv",
    [
        "bcrypt_cost",
        "get_v2_rps",
        "head_blob_rps",
        "get_v2_rps_static_upstream",
        "get_v2_ratio_vs_static_upstream",
        "latency_1conn_ms",
        "pulumi_up_after_cost_change_s",
    ],
    rate.map((r) => [
        r.cost,
        f(r.getV2Rps, 1),
        f(r.headBlobRps, 1),
        f(r.staticUpstreamGetV2Rps, 1),
        f(r.getV2RatioVsStaticUpstream, 3),
        f(r.latency1ConnMs, 1),
        f(r.upAfterCostChangeS, 1),
    ]),
);
csv(
    "push.csv",
    [
        "bcrypt_cost",
        "push_s",
        "pull_s",
        "push_requests",
        "push_requests_with_credentials",
        "pull_requests",
        "pull_requests_with_credentials",
    ],
    push.map((p) => [p.cost, f(p.pushS), f(p.pullS), p.push.total, p.push.withCredentials, p.pull.total, p.pull.withCredentials]),
);
csv(
    "deploy.csv",
    ["measure", "median_s", "samples_s"],
    Object.entries(deploy).map(([k, v]) => [k, f(v.median), v.samples.map((s) => f(s)).join(" ")]),
);

// ---------------------------------------------------------------------------------------------
// chart

const palette = {
    direct: "#1b9e77",
    proxy: "#d95f02",
    seed: "#7570b3",
    "pre-tuning": "#e7298a",
    "static-upstream": "#a6761d",
    "tls-static": "#999999",
    "plain-static": "#555555",
};
const extra = ["#66a61e", "#e6ab02", "#a6761d", "#666666"];
const colour = (t, i) => palette[t] || extra[i % extra.length];
const label = {
    direct: "direct (registry port, no TLS/auth)",
    proxy: "proxy (this project)",
    seed: "seed's nginx config",
    "pre-tuning": "proxy before the buffer tuning",
    "static-upstream": "proxy before per-request resolution",
    "tls-static": "ceiling: nginx static file, TLS",
    "plain-static": "ceiling: nginx static file, plain",
};

function chart() {
    if (!sizes.length) return undefined;
    const legendRows = Math.ceil(orderedTargets.length / 2);
    const W = 900,
        H = 380 + legendRows * 18,
        pad = { l: 64, r: 16, t: 64, b: 60 + legendRows * 18 },
        gap = 56;
    const pw = (W - pad.l - pad.r - gap) / 2,
        ph = H - pad.t - pad.b;
    const all = rows.filter((r) => r.section === "throughput").map((r) => r.value);
    const niceMax = (() => {
        const m = Math.max(...all) * 1.08;
        const step = Math.pow(10, Math.floor(Math.log10(m)));
        return Math.ceil(m / (step / 2)) * (step / 2);
    })();
    const lx = (s) => Math.log2(s);
    const x0 = lx(sizes[0]),
        x1 = lx(sizes[sizes.length - 1]);
    const xs = (s, ox) => ox + (x1 === x0 ? pw / 2 : ((lx(s) - x0) / (x1 - x0)) * (pw - 40) + 20);
    const ys = (v) => pad.t + ph - (v / niceMax) * ph;
    const out = [];
    out.push(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    );
    out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
    out.push(
        `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Blob throughput against size: proxy vs direct (median of ${meta.settings?.reps ?? "?"} runs; bars: min–max)</text>`,
    );
    const panels = [
        ["upload", "Upload (POST + monolithic PUT)", "upload_mibps"],
        ["download", "Download (GET blob)", "download_mibps"],
    ];
    panels.forEach(([, title, metric], p) => {
        const ox = pad.l + p * (pw + gap);
        out.push(`<text x="${ox + pw / 2}" y="${pad.t - 12}" text-anchor="middle" font-weight="bold">${title}</text>`);
        for (let i = 0; i <= 5; i++) {
            const v = (niceMax / 5) * i,
                y = ys(v);
            out.push(`<line x1="${ox}" y1="${y}" x2="${ox + pw}" y2="${y}" stroke="#e5e5e5"/>`);
            out.push(`<text x="${ox - 6}" y="${y + 4}" text-anchor="end" fill="#444">${Math.round(v)}</text>`);
        }
        out.push(`<line x1="${ox}" y1="${pad.t}" x2="${ox}" y2="${pad.t + ph}" stroke="#888"/>`);
        out.push(`<line x1="${ox}" y1="${pad.t + ph}" x2="${ox + pw}" y2="${pad.t + ph}" stroke="#888"/>`);
        for (const s of sizes)
            out.push(
                `<text x="${xs(s, ox)}" y="${pad.t + ph + 16}" text-anchor="middle" fill="#444">${s >= 1024 ? `${s / 1024} GiB` : `${s} MiB`}</text>`,
            );
        out.push(`<text x="${ox + pw / 2}" y="${pad.t + ph + 34}" text-anchor="middle" fill="#444">blob size (log scale)</text>`);
        if (p === 0)
            out.push(`<text transform="translate(16 ${pad.t + ph / 2}) rotate(-90)" text-anchor="middle" fill="#444">MiB/s</text>`);
        orderedTargets.forEach((t, i) => {
            const pts = sizes
                .filter((s) => med("throughput", t, metric, s) !== undefined)
                .map((s) => [xs(s, ox), ys(med("throughput", t, metric, s))]);
            if (!pts.length) return;
            const dash = t === "direct" || t === "proxy" ? "" : statics.includes(t) ? ' stroke-dasharray="2 3"' : ' stroke-dasharray="6 4"';
            out.push(
                `<polyline fill="none" stroke="${colour(t, i)}" stroke-width="${t === "proxy" || t === "direct" ? 3 : 2}"${dash} points="${pts.map((q) => q.map((n) => n.toFixed(1)).join(",")).join(" ")}"/>`,
            );
            sizes.forEach((s) => {
                const v = values("throughput", t, metric, s);
                if (!v.length) return;
                const x = xs(s, ox);
                out.push(
                    `<line x1="${x.toFixed(1)}" y1="${ys(Math.min(...v)).toFixed(1)}" x2="${x.toFixed(1)}" y2="${ys(Math.max(...v)).toFixed(1)}" stroke="${colour(t, i)}" stroke-width="1.5"/>`,
                );
                out.push(`<circle cx="${x.toFixed(1)}" cy="${ys(median(v)).toFixed(1)}" r="3.5" fill="${colour(t, i)}"/>`);
            });
        });
    });
    orderedTargets.forEach((t, i) => {
        const lxp = pad.l + (i % 2) * 380,
            lyp = H - legendRows * 18 + Math.floor(i / 2) * 18;
        out.push(
            `<line x1="${lxp}" y1="${lyp - 4}" x2="${lxp + 26}" y2="${lyp - 4}" stroke="${colour(t, i)}" stroke-width="3"${t === "direct" || t === "proxy" ? "" : statics.includes(t) ? ' stroke-dasharray="2 3"' : ' stroke-dasharray="6 4"'}/>`,
        );
        out.push(`<text x="${lxp + 32}" y="${lyp}">${label[t] || t}</text>`);
    });
    out.push("</svg>");
    return out.join("\n") + "\n";
}
const svg = chart();
if (svg) fs.writeFileSync(path.join(resultsDir, "throughput.svg"), svg);

// ---------------------------------------------------------------------------------------------
// markdown blocks

const table = (header, lines) =>
    [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...lines.map((l) => `| ${l.join(" | ")} |`)].join("\n");
const fmtSize = (mib) => (mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`);
const relResults = path.relative(path.dirname(mdFile), resultsDir) || ".";
const blocks = {};

// Which run measured which phase: a run of some phases keeps the other phases' samples.
const phaseDates = Object.entries(meta.phaseDates || {});
const dates = unique(phaseDates.map(([, d]) => d));
const measured =
    dates.length > 1
        ? dates
              .map(
                  (d) =>
                      `${d} (${phaseDates
                          .filter(([, x]) => x === d)
                          .map(([p]) => p)
                          .join(", ")})`,
              )
              .join("; ")
        : meta.date;
const allPhases = ["unit", "compose", "deploy", "throughput", "rate"];
const partial = meta.settings?.phases && allPhases.some((p) => !meta.settings.phases.split(/\s+/).includes(p));

blocks.machine = table(
    ["", ""],
    [
        ["measured", measured],
        ["CPU", `${meta.cpu}, ${meta.cores} cores${meta.virtualization ? ` (${meta.virtualization})` : ""}`],
        ["memory", meta.memory],
        ["OS, kernel", `${meta.os}, ${meta.kernel}`],
        ["Docker", `${meta.docker}; published loopback ports go through docker-proxy: ${meta.dockerUserlandProxy}`],
        ["images", `${meta.nginxImage}; ${meta.registryImage}`],
        [
            "tools",
            `pulumi ${meta.pulumi}, Node.js ${meta.node}, ${meta.curl.split(" (")[0]}, ${meta.wrk}${meta.dockerCompose ? `, docker-compose ${meta.dockerCompose}` : ""}`,
        ],
        [
            "settings",
            `${meta.settings.reps} repetitions (medians), sizes ${meta.settings.sizesMiB.join("/")} MiB, costs ${meta.settings.costs.join("/")}, ${meta.settings.rateSeconds} s rate runs with ${meta.settings.connections} keep-alive connections`,
        ],
        [
            "whole run",
            wall !== undefined
                ? `${Math.floor(wall / 60)} min ${Math.round(wall % 60)} s (${partial ? `phases ${meta.settings.phases}, ` : ""}before teardown)`
                : "–",
        ],
    ],
);

blocks.targets = table(
    ["target (issue 5)", "this run", "verdict"],
    targetsMet.map((t) => [t.target, t.measured || "–", verdict(t.met)]),
);

blocks.throughput =
    table(
        ["size", "path", "upload MiB/s", "download MiB/s", "upload / direct", "download / direct"],
        throughput.map((t) => [
            fmtSize(t.sizeMiB),
            label[t.target] || t.target,
            f0(t.uploadMiBps),
            f0(t.downloadMiBps),
            t.target === "direct" ? "1" : t.uploadRatio === undefined ? "–" : `**${f(t.uploadRatio)}** (${range(t.uploadRatioRange)})`,
            t.target === "direct" ? "1" : `**${f(t.downloadRatio)}** (${range(t.downloadRatioRange)})`,
        ]),
    ) +
    `\n\nRatios are medians of the per-repetition ratios (range in brackets); each repetition measures every path back to back, in rotating order.` +
    (perRequestResolution.length
        ? ` The proxy against the proxy before per-request resolution (proxy / static upstream), upload: ${perRequestResolution
              .map((r) => `${fmtSize(r.sizeMiB)} **${f(r.uploadRatio)}** (${range(r.uploadRatioRange)})`)
              .join(", ")}; download: ${perRequestResolution
              .map((r) => `${fmtSize(r.sizeMiB)} **${f(r.downloadRatio)}** (${range(r.downloadRatioRange)})`)
              .join(", ")}.`
        : "") +
    ` Chart: [${relResults}/throughput.svg](${relResults}/throughput.svg)\n\n![throughput against size](${relResults}/throughput.svg)`;

blocks.rate =
    table(
        [
            "bcrypt cost",
            "GET /v2/ req/s",
            "HEAD blob req/s",
            "GET /v2/ req/s, static upstream (resolved once, keep-alive)",
            "GET /v2/: proxy / static upstream",
            "one connection: ms per request",
            "pulumi up to change the cost",
        ],
        rate.map((r) => [
            r.cost,
            `**${f(r.getV2Rps, 1)}** (${range(r.getV2RpsRange, 1)})`,
            `${f(r.headBlobRps, 1)} (${range(r.headBlobRpsRange, 1)})`,
            r.staticUpstreamGetV2Rps === undefined ? "–" : `${f(r.staticUpstreamGetV2Rps, 1)} (${range(r.staticUpstreamGetV2RpsRange, 1)})`,
            r.getV2RatioVsStaticUpstream === undefined
                ? "–"
                : `**${f(r.getV2RatioVsStaticUpstream)}** (${range(r.getV2RatioVsStaticUpstreamRange)})`,
            f(r.latency1ConnMs, 1),
            `${f(r.upAfterCostChangeS, 1)} s`,
        ]),
    ) +
    `\n\nWithout bcrypt, same keep-alive load: the registry direct answers GET /v2/ at ${f0(baselines.directGetV2Rps)} req/s and HEAD at ${f0(baselines.directHeadBlobRps)} req/s; the proxy's unauthenticated \`GET /livez\` (TLS, no hash; \`/healthz\` before it asked the registry) runs at ${f0(baselines.proxyHealthzRps)} req/s.`;

blocks.bycost = throughputByCost.length
    ? table(
          ["bcrypt cost", "size", "proxy upload MiB/s", "upload / direct", "proxy download MiB/s", "download / direct"],
          throughputByCost.map((t) => [
              t.cost,
              `${t.sizeMiB} MiB`,
              f0(t.proxyUploadMiBps),
              `**${f(t.uploadRatio)}** (${range(t.uploadRatioRange)})`,
              f0(t.proxyDownloadMiBps),
              `**${f(t.downloadRatio)}** (${range(t.downloadRatioRange)})`,
          ]),
      )
    : "not measured";

blocks.push = push.length
    ? table(
          ["bcrypt cost", "docker push", "requests (with credentials)", "docker pull", "requests (with credentials)"],
          push.map((p) => [
              p.cost,
              `${f(p.pushS, 1)} s`,
              `${p.push.total} (${p.push.withCredentials})`,
              `${f(p.pullS, 1)} s`,
              `${p.pull.total} (${p.pull.withCredentials})`,
          ]),
      ) +
      (push.length
          ? `\n\nBy method, at cost ${push[0].cost}: push ${Object.entries(push[0].push.byMethod)
                .filter(([, n]) => n)
                .map(([m, n]) => `${n} ${m}`)
                .join(
                    ", ",
                )} (${push[0].push.unauthorized} of them answered 401: the client's first, credential-less ping); pull ${Object.entries(
                push[0].pull.byMethod,
            )
                .filter(([, n]) => n)
                .map(([m, n]) => `${n} ${m}`)
                .join(
                    ", ",
                )} (${push[0].pull.unauthorized} answered 401). Every request with credentials costs nginx one bcrypt verification.`
          : "")
    : "not measured";

const secs = (v) => f(v, v < 10 ? 2 : 1);
const dline = (name, v, note = "") => [
    name,
    v.median !== undefined ? `**${secs(v.median)} s**` : "–",
    v.samples.map(secs).join(", ") || "–",
    note,
];
blocks.deploy = table(
    ["operation", "median", "runs (s)", "note"],
    [
        dline(
            "`pulumi up --yes` from nothing",
            deploy.pulumiUpFromNothing,
            "preview + create; returns when both containers pass their health checks",
        ),
        dline("…of which the registry waits for its first passing health check", deploy.healthWaitRegistry, "from container start"),
        dline(
            "…of which the proxy waits for its first passing health check",
            deploy.healthWaitProxy,
            "from container start; the proxy starts after the registry",
        ),
        dline("`pulumi preview --expect-no-changes` (no-op)", deploy.pulumiPreviewNoop),
        dline("`pulumi up --yes` after a password change", deploy.pulumiUpAfterPasswordChange, "replaces the proxy container"),
        dline("`pulumi destroy --yes`", deploy.pulumiDestroy),
        dline("`docker-compose up -d` (seed's compose file)", deploy.composeUpD, "returns when the containers run; no health checks"),
        dline("…until its proxy answers", deploy.composeUpUntilAnswer, "`up -d` plus polling `GET /v2/` for 401"),
        dline("`docker-compose down -v`", deploy.composeDown),
    ],
);

blocks.unit = table(
    ["run", "wall time"],
    [
        [
            "`npx jest`, warm (median)",
            unit.warm.median !== undefined ? `**${f(unit.warm.median, 1)} s** (${unit.warm.samples.map((s) => f(s, 1)).join(", ")})` : "–",
        ],
        ["`npx jest --no-cache` (cold ts-jest transform)", unit.cold.length ? `${f(unit.cold[0], 1)} s` : "–"],
    ],
);

if (fs.existsSync(mdFile)) {
    let md = fs.readFileSync(mdFile, "utf8");
    for (const [name, body] of Object.entries(blocks)) {
        const re = new RegExp(`(<!-- BEGIN bench:${name} -->)[\\s\\S]*?(<!-- END bench:${name} -->)`);
        if (re.test(md)) md = md.replace(re, (_, a, b) => `${a}\n${body}\n${b}`);
    }
    fs.writeFileSync(mdFile, md);
    console.log(`report: ${path.relative(process.cwd(), mdFile)} updated`);
}
console.log(
    `report: ${path.relative(process.cwd(), resultsDir)}/{summary.json,throughput.csv,throughput_by_cost.csv,rate.csv,push.csv,deploy.csv${svg ? ",throughput.svg" : ""}}`,
);
for (const t of targetsMet) console.log(`  ${t.target}: ${t.measured || "–"} -> ${verdict(t.met).replace(/\*/g, "")}`);
