// Where the page's load spends its main thread: a CPU profile of the first seconds in headless
// Chromium (Lighthouse's mobile viewport and its 4x CPU slowdown), summed per function, self and
// inclusive, and each long task by the page's components it builds, with Rust's mangled names made
// readable. Run by scripts/profile-load, which serves a copy of the release site whose page module
// keeps its function names. A measurement, not a test.
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

/** The page's components a frame's name mentions: `views::controls::__component_controls` →
 * `controls::controls`. With Rust's v0 mangling (scripts/profile-load --by-component) a generic
 * instance's name spells out its view type, closures and all, so tachys's shared `build`
 * functions name the components they build. */
function components(name) {
    const found = new Set();
    for (const m of name.matchAll(/latent_app(?:\[[0-9a-f]+\])?::views::((?:\w+::)*)__component_(\w+)/g)) found.add(m[1] + m[2]);
    return [...found].sort();
}

/** Each task of 30 ms or more (Lighthouse counts a task's time past 50 ms as blocking): its
 * time by the innermost frame that names components, and its busiest functions. */
function printTasks(profile, nodes, parents, label) {
    const tasks = [];
    let task = null;
    let at = 0;
    profile.samples.forEach((id, i) => {
        at += (profile.timeDeltas[i] ?? 0) / 1000;
        const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
        const stack = [];
        for (let n = id; n !== undefined; n = parents.get(n)) stack.push(nodes.get(n).callFrame.functionName || "(anonymous)");
        if (stack[0] === "(idle)" || stack[0] === "(program)") {
            if (task) tasks.push(task);
            task = null;
            return;
        }
        task ??= { start: at, ms: 0, by: new Map(), self: new Map() };
        task.ms += ms;
        const named = stack.map(components).find((c) => c.length > 0);
        const key = named ? (named.length > 4 ? `${named.length} components, the page's whole tree` : named.join(" + ")) : "(no component)";
        task.by.set(key, (task.by.get(key) ?? 0) + ms);
        const leaf = label(nodes.get(id)).slice(0, 140);
        task.self.set(leaf, (task.self.get(leaf) ?? 0) + ms);
    });
    if (task) tasks.push(task);
    const top = (map, count) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
    for (const t of tasks.filter((t) => t.ms >= 30)) {
        console.log(`task at ${t.start.toFixed(0)} ms: ${t.ms.toFixed(1)} ms; by component:`);
        for (const [key, ms] of top(t.by, 10)) console.log(`${ms.toFixed(1).padStart(8)}  ${key}`);
        console.log("  busiest functions:");
        for (const [name, ms] of top(t.self, 5)) console.log(`${ms.toFixed(1).padStart(8)}  ${name}`);
    }
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
    // The raw profile, for a closer look (Chromium's DevTools open it as a .cpuprofile).
    if (process.env.PROFILE_OUT) require("fs").writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile));

    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map();
    for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
    // wasm-bindgen's name section is mostly demangled already, with the hash left on.
    const label = (n) => demangle(n.callFrame.functionName || "(anonymous)").replace(/::h[0-9a-f]{16}$/, "").replace(/\[[0-9a-f]{16}\]/g, "");
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
    printTasks(profile, nodes, parents, label);
    console.log("inclusive ms:");
    for (const [name, ms] of top(inclusive, 60)) console.log(`${ms.toFixed(1).padStart(8)}  ${name.slice(0, 150)}`);
    console.log("self ms:");
    for (const [name, ms] of top(self, 30)) console.log(`${ms.toFixed(1).padStart(8)}  ${name.slice(0, 150)}`);
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
