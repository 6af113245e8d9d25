// The browser build in a real browser: Debian's Chromium, headless, driven by puppeteer-core with
// a real mouse and keyboard. Usage:
//   node tests/web/web_test.mjs SITE_DIR NODE_MODULES_DIR NORMVIZ_BINARY
// SITE_DIR is build-web/site; NODE_MODULES_DIR holds puppeteer-core; NORMVIZ_BINARY is the desktop
// app, whose --report for the same flags the page's report must match. Exits 1 on any failure.
import {spawn, spawnSync} from 'node:child_process';
import {createRequire} from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const [site, modules, binary] = process.argv.slice(2);
if (!site || !modules || !binary) {
  console.error('usage: web_test.mjs SITE_DIR NODE_MODULES_DIR NORMVIZ_BINARY');
  process.exit(2);
}
const puppeteer = createRequire(path.resolve(modules, 'x.js'))('puppeteer-core');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'normviz-web-'));

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

// The site, served with the isolation headers on a free port.
const port = 18000 + (process.pid % 2000);
const server = spawn('python3', [path.join(root, 'scripts/serve-site'), site, '--port', `${port}`],
                     {stdio: ['ignore', 'pipe', 'inherit']});
await new Promise((resolve, reject) => {
  server.stdout.once('data', resolve);
  server.once('exit', () => reject(new Error('scripts/serve-site ended')));
});
const base = `http://127.0.0.1:${port}/`;

const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
         '--window-size=1280,800'],
});

// A page at `query`, 1280x800 CSS pixels unless given, with its console errors collected.
async function open(query, width = 1280, height = 800) {
  const page = await browser.newPage();
  await page.setViewport({width, height});
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(base + query);
  await page.waitForFunction('window.normviz && window.normviz.ready', {timeout: 90000});
  await frames(page, 3);
  return page;
}

// Waits for n more animation frames of the page.
async function frames(page, n) {
  await page.evaluate((k) => new Promise((done) => {
    const step = () => (--k <= 0 ? done() : requestAnimationFrame(step));
    requestAnimationFrame(step);
  }), n);
}

const report = (page) => page.evaluate(() => window.normviz.report());
const litSet = (view) =>
    view.cubes.filter((c) => c.lit).map((c) => `${c.section}:${c.index}`).sort().join(' ');

// The desktop app's report for the same flags, rendered offscreen at the same size.
function desktopReport(flags) {
  const json = path.join(work, 'desktop.json');
  const run = spawnSync('xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', binary, '--no-settings',
                                     '--size', '1280x800', ...flags, '--screenshot',
                                     path.join(work, 'desktop.png'), '--report', json],
                        {encoding: 'utf8'});
  if (run.status !== 0) throw new Error(`desktop app failed: ${run.stderr}`);
  return JSON.parse(fs.readFileSync(json, 'utf8'));
}

try {
  // 1. The default page: loads, draws, no console error.
  {
    const page = await open('');
    const r = await report(page);
    check(page.errors.length === 0, `default page loads without console errors ${page.errors}`);
    check(r.display === 'cubes' && r.views.length === 1 && r.views[0].cubes.length === 48 * 2 + 12,
          'default page shows the worked example as cubes');
    await page.close();
  }

  // 2. A link opens the lit set the desktop app's --report shows for the same flags.
  {
    const flags = ['--norm', 'group', '--groups', '2', '--shape', '4,6,5,5', '--init', 'randn',
                   '--hover', '1,3,2,2'];
    const query = '?norm=group&groups=2&shape=4,6,5,5&init=randn&hover=1,3,2,2';
    const page = await open(query);
    const web = await report(page);
    const desktop = desktopReport(flags);
    check(web.views[0].lit_count === 152, `link lights 75 + 75 elements and their statistics ` +
          `(${web.views[0].lit_count})`);
    check(litSet(web.views[0]) === litSet(desktop.views[0]),
          'link: the same lit cubes as the desktop --report for the same flags');
    check(page.url().includes('hover=1,3,2,2'), `the address bar keeps the view (${page.url()})`);
    await page.close();
  }

  // 3. A real mouse: hover lights the group, a click pins it, Escape unpins.
  {
    const page = await open('?norm=group&groups=2&shape=4,6,5,5&init=randn');
    const before = await report(page);
    check(before.views[0].lit_count === 0, 'nothing lit before the mouse moves');
    // A cube of x that is visible, well inside the view.
    const target = before.views[0].cubes.find((c) => c.section === 'x' && c.visible && c.index === 37);
    check(!!target, 'element 37 of x is visible');
    if (target) {
      await page.mouse.move(target.x, target.y);
      await frames(page, 3);
      const hovered = await report(page);
      const lit = hovered.views[0].cubes.filter((c) => c.lit);
      check(lit.some((c) => c.section === 'x' && c.index === 37) &&
                lit.filter((c) => c.section === 'x').length === 75,
            `hover lights element 37's group: 75 cubes of x (${lit.length} lit in all)`);
      await page.mouse.down();
      await page.mouse.up();
      // ImGui 1.86 reads the mouse position at each frame: a pointer that leaves within the same
      // frame as the release would take the click with it (no person clicks and leaves that fast).
      await frames(page, 3);
      await page.mouse.move(5, 790);  // over the controls panel, away from the cubes
      await frames(page, 3);
      const pinned = await report(page);
      check(pinned.views[0].lit_count === hovered.views[0].lit_count,
            'a click pins the group: still lit with the mouse elsewhere');
      check(page.url().includes('hover='), `the pinned element is in the address bar (${page.url()})`);
      await page.keyboard.press('Escape');
      await frames(page, 3);
      const unpinned = await report(page);
      check(unpinned.views[0].lit_count === 0, `Escape unpins (${unpinned.views[0].lit_count} lit)`);
    }
    check(page.errors.length === 0, `no console errors while driving the page ${page.errors}`);
    await page.close();
  }

  // 4. Ctrl+S saves a PNG as a download.
  {
    const page = await open('?shape=4,6,5,5&init=randn&hover=0,1,1,1');
    const downloads = path.join(work, 'downloads');
    fs.mkdirSync(downloads);
    const session = await page.createCDPSession();
    await session.send('Browser.setDownloadBehavior', {behavior: 'allow', downloadPath: downloads});
    await page.mouse.move(640, 400);
    await page.keyboard.down('Control');
    await page.keyboard.press('s');
    await page.keyboard.up('Control');
    await page.waitForFunction('window.normviz.downloads.length > 0', {timeout: 60000});
    const name = (await page.evaluate(() => window.normviz.downloads))[0];
    let file = path.join(downloads, name);
    for (let i = 0; i < 100 && !fs.existsSync(file); ++i) await new Promise((r) => setTimeout(r, 100));
    const bytes = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
    check(bytes.length > 1000 && bytes.subarray(1, 4).toString() === 'PNG',
          `Ctrl+S downloads a PNG (${name}, ${bytes.length} bytes)`);
    await page.close();
  }

  // 5. A lesson question answered through real key presses: wrong, then right.
  {
    const page = await open('?lesson=rmsnorm&step=2');
    const start = await report(page);
    check(start.lesson && start.lesson.name === 'rmsnorm' && start.lesson.step === 2,
          'a link opens a lesson at its step');
    await page.mouse.move(640, 500);
    await page.keyboard.press('1');  // "the group's mean": wrong, RMSNorm subtracts nothing
    await frames(page, 3);
    const wrong = await report(page);
    check(wrong.lesson.tried && !wrong.lesson.answered, `key 1: a wrong answer, with feedback ` +
          `(${wrong.lesson.feedback})`);
    await page.keyboard.press('2');  // "nothing": right
    await frames(page, 3);
    const right = await report(page);
    check(right.lesson.answered, `key 2: the right answer (${right.lesson.feedback})`);
    check(page.errors.length === 0, `no console errors in the lesson ${page.errors}`);
    await page.close();
  }

  // 6. A tablet held upright: the tensor takes the whole width above the panels.
  {
    const page =
        await open('?norm=layer&normalized-shape=5,5&shape=2,3,5,5&init=randn&hover=1,2,2,2', 768,
                   1024);
    const r = await report(page);
    const [x, y, w, h] = r.views[0].rect;
    check(x === 0 && y === 0 && w === 768 && h > 450 && h < 1024,
          `portrait: the view spans the width above the panels (${r.views[0].rect})`);
    check(r.views[0].lit_visible === r.views[0].lit_count && r.views[0].lit_count > 0,
          `portrait: every lit cube is on screen (${r.views[0].lit_visible}/${r.views[0].lit_count})`);
    await page.close();
  }

  // 7. A link with a bad parameter: a message naming it, and the default view.
  {
    const page = await open('?norm=group&groups=banana');
    const r = await report(page);
    check((r.error || '').includes('groups'), `a bad link names the parameter (${r.error})`);
    check(r.views && r.views.length === 1, 'a bad link opens the default view');
    await page.close();
  }
} catch (e) {
  check(false, `the test itself failed: ${e.stack || e}`);
} finally {
  await browser.close();
  server.kill();
  fs.rmSync(work, {recursive: true, force: true});
}
console.log(failures === 0 ? 'web tests passed' : `${failures} web check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
