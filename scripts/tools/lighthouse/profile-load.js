// Where the page's load spends its main thread: a CPU profile of the first seconds in headless
// Chromium (Lighthouse's mobile viewport and its 4x CPU slowdown), summed per function, self and
// inclusive, with Rust's mangled names made readable. Run by scripts/profile-load, which serves a
// copy of the release site whose page module keeps its function names. A measurement, not a test.
//   node profile-load.js URL [SECONDS] [SLOWDOWN]
const puppeteer = require("puppeteer-core");

const [url, seconds = "4", slowdown = "4"] = process.argv.slice(2);

/** `_ZN4core3fmt5write17h…E` → `core::fmt::write` (Rust's legacy mangling; the rest as they are). */
function demangle(name) {
    const mangled = /^_ZN(.*)E$/.exec(name);
    if (!mangled) return name;
    const body = mangled[1];
    const parts = [];
    let at = 0;
    while (at < body.length && /\d/.test(body[at])) {
        const digits = /^\d+/.exec(body.slice(at))[0];
        const length = Number(digits);
        parts.push(body.slice(at + digits.length, at + digits.length + length));
        at += digits.length + length;
    }
    if (/^h[0-9a-f]{16}$/.test(parts[parts.length - 1] ?? "")) parts.pop();
    const escapes = { $LT$: "<", $GT$: ">", $u20$: " ", $RF$: "&", $C$: ",", $u7b$: "{", $u7d$: "}", $BP$: "*", $u27$: "'", $LP$: "(", $RP$: ")" };
    return parts.join("::").replace(/\$(LT|GT|u20|RF|C|u7b|u7d|BP|u27|LP|RP)\$/g, (e) => escapes[e]).replace(/\.\./g, "::");
}

(async () => {
    const browser = await puppeteer.launch({ executablePath: process.env.CHROME_PATH, headless: "new", args: ["--no-sandbox"] });
    const page = await browser.newPage();
    await page.setViewport({ width: 412, height: 823, deviceScaleFactor: 1.75, isMobile: true });
    const cdp = await page.createCDPSession();
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: Number(slowdown) });
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
    await cdp.send("Profiler.start");
    await page.goto(url, { waitUntil: "load" });
    await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
    const { profile } = await cdp.send("Profiler.stop");
    const measures = await page.evaluate(() => performance.getEntriesByType("measure").map((m) => `${m.name} at ${m.startTime.toFixed(0)} ms: ${m.duration.toFixed(1)} ms`));
    await browser.close();

    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map();
    for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
    // wasm-bindgen's name section is mostly demangled already, with the hash left on.
    const label = (n) => demangle(n.callFrame.functionName || "(anonymous)").replace(/::h[0-9a-f]{16}$/, "");
    const self = new Map();
    const inclusive = new Map();
    let busy = 0;
    profile.samples.forEach((id, i) => {
        const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
        const top = label(nodes.get(id));
        if (top === "(idle)" || top === "(program)") return;
        busy += ms;
        self.set(top, (self.get(top) ?? 0) + ms);
        // Each function once per sample, however deep it recurses.
        const seen = new Set();
        for (let at = id; at !== undefined; at = parents.get(at)) {
            const name = label(nodes.get(at));
            if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
            seen.add(name);
        }
    });
    const top = (map, count) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
    console.log(`main thread busy ${busy.toFixed(0)} ms in ${seconds} s after load (CPU slowdown ${slowdown}x)`);
    for (const m of measures) console.log(`  ${m}`);
    console.log("inclusive ms:");
    for (const [name, ms] of top(inclusive, 60)) console.log(`${ms.toFixed(1).padStart(8)}  ${name.slice(0, 150)}`);
    console.log("self ms:");
    for (const [name, ms] of top(self, 30)) console.log(`${ms.toFixed(1).padStart(8)}  ${name.slice(0, 150)}`);
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
