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

// A page at `query`, 1280x800 CSS pixels unless given (`screen`: puppeteer's viewport options),
// with its console errors collected.
async function open(query, width = 1280, height = 800, screen = {}) {
  return openAt(base, query, width, height, screen);
}
async function openAt(site_url, query, width = 1280, height = 800, screen = {}) {
  const page = await browser.newPage();
  await page.setViewport({width, height, ...screen});
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(e.message));
  try {
    await page.goto(site_url + query);
  } catch (e) {
    await page.close();
    throw e;
  }
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

// Presses the panel button `label` as a person would: moves onto it, waits for the panels to
// settle (a notice can move them), then clicks where it is. False when the page shows no such
// button.
async function press(page, label) {
  let at = null;
  for (let i = 0; i < 5; ++i) {
    const b = (await report(page)).buttons?.[label];
    if (!b) return false;
    const next = [b[0] + b[2] / 2, b[1] + b[3] / 2];
    if (at && next[0] === at[0] && next[1] === at[1]) break;
    at = next;
    await page.mouse.move(at[0], at[1]);
    await frames(page, 3);
  }
  await page.mouse.down();
  await frames(page, 2);
  await page.mouse.up();
  await frames(page, 2);
  return true;
}
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

  // 2b. A link to the built-in photos: decoded in the page, shown as pictures, the same lit set and
  // the same per-channel statistics as the desktop app.
  {
    const flags = ['--input-image', 'sample:chelsea,sample:chelsea-dim', '--norm', 'instance',
                   '--hover', '1,0,40,60'];
    const page = await open('?input-image=sample:chelsea,sample:chelsea-dim&norm=instance' +
                            '&hover=1,0,40,60');
    const web = (await report(page)).views[0];
    const desktop = desktopReport(flags).views[0];
    check(web.display === 'image' && web.tiles.length === 4 && web.lit_count === 12288 * 2,
          `photos in a link open as pictures, x beside y (${web.display}, ` +
          `${web.tiles.length} pictures)`);
    // The same decoded pixels; y's statistics differ only by the engines' rounding.
    const close = web.channel_stats.length === 6 && web.channel_stats.every((c, i) =>
      Object.keys(c).every((k) => Math.abs(c[k] - desktop.channel_stats[i][k]) < 1e-4));
    check(close, 'photos: the same per-channel statistics as the desktop app');
    check(page.errors.length === 0, `no console errors with photos ${page.errors}`);
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

  // 5b. A plot from a link, as the desktop draws it: computed in the page, beside or under x.
  {
    const page = await open('?norm=batch&shape=8,4,6,6&init=randn&hover=0,2,0,0&plot=batch-spread');
    const r = await report(page);
    const desktop = desktopReport(['--norm', 'batch', '--shape', '8,4,6,6', '--init', 'randn',
                                   '--hover', '0,2,0,0', '--plot', 'batch-spread']);
    check(r.plot && r.plot.kind === 'batch-spread' && r.plot.rect[2] > 300 && r.plot.rect[3] > 200,
          `a link opens a plot (${JSON.stringify(r.plot)})`);
    check(JSON.stringify(r.plot) === JSON.stringify(desktop.plot),
          `the page's plot has the desktop's place (${JSON.stringify(desktop.plot)})`);
    if (process.env.NORMVIZ_WEB_SHOTS)
      await page.screenshot({path: path.join(process.env.NORMVIZ_WEB_SHOTS, 'web-plot.png')});
    check(page.errors.length === 0, `no console errors with a plot ${page.errors}`);
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

  // 8. A tablet: touch at a device pixel ratio of 2. A tap lights and pins a group, one finger
  // orbits, two fingers pinch to zoom; an idle page draws only now and then.
  {
    const page = await open('?norm=group&groups=2&shape=4,6,5,5&init=randn', 768, 1024,
                            {deviceScaleFactor: 2, hasTouch: true, isMobile: true});
    const cube = (r, i) => r.views[0].cubes.find((c) => c.section === 'x' && c.index === i);
    const spread = (r) => Math.hypot(cube(r, 0).x - cube(r, 599).x, cube(r, 0).y - cube(r, 599).y);
    const start = await report(page);
    const target = cube(start, 37);
    const idle = await page.evaluate(() => window.normviz.frames);
    await new Promise((r) => setTimeout(r, 2000));
    const drawn = (await page.evaluate(() => window.normviz.frames)) - idle;
    check(drawn <= 10, `an idle page draws ${drawn} frames in 2 s (at most 10)`);
    await page.touchscreen.tap(target.x, target.y);
    await frames(page, 4);
    const tapped = await report(page);
    check(tapped.views[0].lit_count === 152 && cube(tapped, 37).lit && page.url().includes('hover='),
          `a tap at a device pixel ratio of 2 lights and pins the group of the cube under the ` +
          `finger (${tapped.views[0].lit_count} lit, ${page.url()})`);
    const session = await page.createCDPSession();
    const touch = async (type, points) => {
      await session.send('Input.dispatchTouchEvent',
                         {type, touchPoints: points.map(([x, y], id) => ({x, y, id}))});
      await frames(page, 2);
    };
    await touch('touchStart', [[300, 300]]);
    for (let i = 1; i <= 5; ++i) await touch('touchMove', [[300 + i * 20, 300]]);
    await touch('touchEnd', []);
    await frames(page, 3);
    const orbited = await report(page);
    check(Math.hypot(cube(orbited, 37).x - target.x, cube(orbited, 37).y - target.y) > 20,
          'one finger dragged across the view turns the block');
    await touch('touchStart', [[350, 300], [450, 300]]);
    for (let i = 1; i <= 5; ++i) await touch('touchMove', [[350 - i * 20, 300], [450 + i * 20, 300]]);
    await touch('touchEnd', []);
    await frames(page, 3);
    const pinched = await report(page);
    check(spread(pinched) > 1.3 * spread(orbited),
          `two fingers spread apart zoom in (${spread(orbited).toFixed(0)} -> ` +
          `${spread(pinched).toFixed(0)} px across x)`);
    check(page.errors.length === 0, `no console errors on the tablet ${page.errors}`);
    await page.close();
  }

  // 9. The mouse wheel: one notch is one zoom step.
  {
    const page = await open('?norm=batch&shape=4,6,5,5&init=randn');
    const span = (r) => {
      const x = r.views[0].cubes.filter((c) => c.section === 'x');
      return Math.hypot(x[0].x - x[x.length - 1].x, x[0].y - x[x.length - 1].y);
    };
    const before = span(await report(page));
    await page.mouse.move(640, 400);
    await page.mouse.wheel({deltaY: -100});
    await frames(page, 3);
    const ratio = span(await report(page)) / before;
    check(ratio > 1.02 && ratio < 1.3, `one wheel notch zooms in one step (x ${ratio.toFixed(3)})`);
    await page.close();
  }

  // 10. Files: an .npy dropped on the page or chosen in the file picker becomes x; Save y
  // downloads the output. Nothing leaves the page.
  {
    const page = await open('?norm=batch&shape=4,6,5,5&init=randn');
    const npy = (name, shape) => {
      const count = shape.reduce((a, b) => a * b, 1);
      let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
      header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
      const head = Buffer.alloc(10);
      Buffer.from('\x93NUMPY', 'latin1').copy(head);
      head[6] = 1;
      head.writeUInt16LE(header.length, 8);
      const data = Buffer.alloc(4 * count);
      for (let i = 0; i < count; ++i) data.writeFloatLE(i % 7, 4 * i);
      const file = path.join(work, name);
      fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
      return file;
    };
    const session = await page.createCDPSession();
    const dropped = npy('dropped.npy', [2, 3, 4, 4]);
    for (const type of ['dragEnter', 'dragOver', 'drop'])
      await session.send('Input.dispatchDragEvent', {type, x: 640, y: 400,
                         data: {items: [], files: [dropped], dragOperationsMask: 1}});
    await page.waitForFunction(() => window.location.search.includes('dropped.npy'),
                               {timeout: 20000}).catch(() => {});
    await frames(page, 3);
    const afterDrop = await report(page);
    check(afterDrop.views[0].cubes.filter((c) => c.section === 'x').length === 96 &&
              !afterDrop.error, `a dropped (2,3,4,4) .npy becomes x (${afterDrop.error || 'ok'})`);
    const picked = npy('picked.npy', [3, 2, 4, 4]);
    const chosen = page.waitForFileChooser({timeout: 20000});
    chosen.catch(() => {});  // awaited below only when the button is there
    const shown = await press(page, 'Open files\u2026');
    check(shown, 'the page shows Open files…');
    if (shown) {
      const chooser = await chosen;
      await chooser.accept([picked]);
      await page.waitForFunction(() => window.location.search.includes('picked.npy'),
                                 {timeout: 20000}).catch(() => {});
      await frames(page, 3);
      const afterPick = await report(page);
      check(page.url().includes('shape=3,2,4,4') && !afterPick.error,
            `the file picker's (3,2,4,4) .npy becomes x (${page.url()})`);
      const downloads = path.join(work, 'npy-downloads');
      fs.mkdirSync(downloads);
      await session.send('Browser.setDownloadBehavior', {behavior: 'allow', downloadPath: downloads});
      await press(page, 'Save y');
      const file = path.join(downloads, 'picked_y.npy');
      for (let i = 0; i < 100 && !fs.existsSync(file); ++i) await new Promise((r) => setTimeout(r, 100));
      const bytes = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
      check(bytes.length === 128 + 4 * 96 && bytes.subarray(1, 6).toString() === 'NUMPY',
            `Save y downloads picked_y.npy (${bytes.length} bytes)`);
    }
    check(page.errors.length === 0, `no console errors with files ${page.errors}`);
    await page.close();
  }

  // 11. Threads where the page is cross-origin isolated (scripts/serve-site's headers); one thread,
  // said on screen, from a host without them.
  {
    const page = await open('?norm=batch&shape=8,16,32,32&init=randn');
    const cores = await page.evaluate(() => Math.min(navigator.hardwareConcurrency || 1, 16));
    const r = await report(page);
    check(await page.evaluate(() => window.normviz.threads) && r.engine.threads === cores &&
              r.engine.simd === 'WASM',
          `isolated: the threaded build with ${r.engine.threads} of ${cores} threads, SIMD ` +
              `${r.engine.simd}`);
    await page.close();
    const plainPort = port + 1;
    const plain = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', `${plainPort}`,
                                    '--directory', site], {stdio: 'ignore'});
    try {
      let single = null;
      for (let i = 0; i < 50 && !single; ++i) {
        try {
          single = await openAt(`http://127.0.0.1:${plainPort}/`, '?norm=batch&shape=8,16,32,32');
        } catch (e) {
          await new Promise((r) => setTimeout(r, 200));  // the server is still starting
        }
      }
      const s1 = single ? await report(single) : {};
      check(single && !(await single.evaluate(() => window.normviz.threads)) &&
                s1.engine.threads === 1 && single.errors.length === 0,
            `a host without the isolation headers: the single-threaded build, 1 thread ` +
                `(${JSON.stringify(s1.engine)})`);
      if (single) await single.close();
    } finally {
      plain.kill();
    }
  }

  // 12. The GPU kernels on the emulated device, in the browser (fibers through Asyncify).
  {
    const page = await open('?norm=group&groups=2&shape=4,6,5,5&init=randn&backend=gpu-emulated');
    const r = await report(page);
    const gpu = (r.runs || []).find((run) => run.label.includes('emulated'));
    check(gpu && !gpu.error && gpu.max_diff < 1e-5 && !r.error,
          `the emulated GPU runs its kernel in the page (${JSON.stringify(gpu)})`);
    check(page.errors.length === 0, `no console errors on the emulated device ${page.errors}`);
    await page.close();
  }

  // 13. Presenter mode on the browser's full screen: F5 enters both; leaving full screen the
  // browser's way (Escape there never reaches the page) leaves presenter mode.
  {
    const page = await open('?lesson=groupnorm&step=2');
    await page.mouse.move(640, 500);
    await page.keyboard.press('F5');
    await page.waitForFunction(() => !!document.fullscreenElement, {timeout: 10000}).catch(() => {});
    await frames(page, 3);
    const on = await report(page);
    check(on.lesson.presenter && (await page.evaluate(() => !!document.fullscreenElement)),
          'F5: presenter mode on the browser\'s full screen');
    await page.evaluate(() => document.exitFullscreen());
    await frames(page, 4);
    const off = await report(page);
    check(!off.lesson.presenter, 'leaving full screen leaves presenter mode');
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
