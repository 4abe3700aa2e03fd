// Latent Lab's service worker, in release sites only: after the first visit the page opens and
// trains with no network. scripts/trunk/service-worker fills in the version (a hash of every file
// below) and the files; start.js registers it once the app runs.
//
// One cache per version, holding a consistent set of files: the page, its script and styles, the
// MNIST asset, the app, and the one build of its worker this browser runs (the same pick start.js
// makes). Every
// request the cache can answer is answered from it, so a page never mixes files of two deploys; a
// new deploy (new bytes here) installs beside the old one, takes over, and deletes the old caches.
import { pickWorker } from './wasm-build.js';

const CACHE = 'latent-lab-@VERSION@';
const FILES = @FILES@;

self.addEventListener('install', (event) => {
    const worker = pickWorker(WebAssembly.validate);
    event.waitUntil((async () => {
        const cache = await caches.open(CACHE);
        const files = [...FILES, `${worker.files}.js`, `${worker.files}_bg.wasm`];
        await Promise.all(files.map((file) => keep(cache, file)));
        await self.skipWaiting();
    })());
});

// Fetches one file into the cache, trying three times: a request lost on a classroom's Wi-Fi (or
// a busy host) would otherwise fail the whole install, which waits for the next visit to try again.
async function keep(cache, file) {
    for (let attempt = 1; ; attempt += 1) {
        try {
            return await cache.add(file);
        } catch (error) {
            if (attempt === 3) {
                throw error;
            }
            await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
        }
    }
}

self.addEventListener('activate', (event) => {
    event.waitUntil((async () => {
        for (const name of await caches.keys()) {
            if (name.startsWith('latent-lab-') && name !== CACHE) {
                await caches.delete(name);
            }
        }
        await self.clients.claim();
    })());
});

self.addEventListener('fetch', (event) => {
    const request = event.request;
    if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) {
        return;
    }
    event.respondWith((async () => {
        const cache = await caches.open(CACHE);
        // A page address carries its state in the query (?model=gan&beta=4): any of them is the page.
        const cached = await cache.match(request, { ignoreSearch: request.mode === 'navigate' });
        return cached ?? fetch(request);
    })());
});
