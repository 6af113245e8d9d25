// The page's side of the browser platform (platform_web.cpp), linked with --js-library: the size
// of the page and its pixel ratio, the address bar, downloads and the file picker, full screen,
// the events that wake the frame loop, touch, and the test hook's flags.
mergeInto(LibraryManager.library, {
  normviz_page_width: function() { return window.innerWidth | 0; },
  normviz_page_height: function() { return window.innerHeight | 0; },

  // The page's query string ("?norm=group&..."), as a new C string the caller frees.
  normviz_page_query: function() {
    const q = window.location.search || "";
    const size = lengthBytesUTF8(q) + 1;
    const ptr = _malloc(size);
    stringToUTF8(q, ptr, size);
    return ptr;
  },

  // The page's address without its query: a link is this plus the view's query.
  normviz_page_base: function() {
    const base = window.location.origin + window.location.pathname;
    const size = lengthBytesUTF8(base) + 1;
    const ptr = _malloc(size);
    stringToUTF8(base, ptr, size);
    return ptr;
  },

  // Copy command, Copy link: the system clipboard (the page is a secure context on https and on
  // 127.0.0.1); the last text is kept on window.normviz for scripts and tests.
  normviz_page_copy: function(text) {
    const t = UTF8ToString(text);
    if (window.normviz) window.normviz.clipboard = t;
    if (navigator.clipboard && navigator.clipboard.writeText)
      navigator.clipboard.writeText(t).catch(() => {});
  },

  // The address bar follows the view without adding history entries.
  normviz_page_replace_query: function(query) {
    const q = UTF8ToString(query);
    const url = window.location.pathname + (q.length ? "?" + q : "") + window.location.hash;
    if (url !== window.location.pathname + window.location.search + window.location.hash)
      window.history.replaceState(null, "", url);
  },

  // A file of the in-memory file system handed to the browser as a download, then removed.
  normviz_page_download: function(path, name, mime) {
    const p = UTF8ToString(path);
    const bytes = FS.readFile(p);
    FS.unlink(p);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([bytes], {type: UTF8ToString(mime)}));
    a.download = UTF8ToString(name);
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    if (window.normviz) window.normviz.downloads.push(a.download);
  },

  // Presenter mode on the browser's full screen (allowed only after a user's gesture).
  normviz_page_fullscreen: function(on) {
    const full = !!document.fullscreenElement;
    if (on && !full && document.documentElement.requestFullscreen)
      document.documentElement.requestFullscreen().catch(() => {});
    if (!on && full && document.exitFullscreen) document.exitFullscreen().catch(() => {});
  },

  // After each frame drawn: the test hook's flag (the first complete frame) and frame count.
  normviz_page_drawn: function() {
    if (!window.normviz) return;
    window.normviz.ready = true;
    window.normviz.frames++;
  },

  normviz_page_is_fullscreen: function() { return document.fullscreenElement ? 1 : 0; },

  normviz_page_pixel_ratio: function() { return window.devicePixelRatio || 1; },

  // Events since the last call: the frame loop draws only when something happened.
  normviz_page_take_events: function() {
    const n = Module.normvizEvents | 0;
    Module.normvizEvents = 0;
    return n;
  },

  // Open…: the browser's file picker; the chosen files are written into the page's memory and
  // opened there (several photos make a batch). Nothing leaves the page.
  normviz_page_pick_file: function() {
    const input = document.createElement("input");
    input.type = "file";
    input.multiple = true;
    input.accept = ".npy,.npz,.safetensors,.png,.jpg,.jpeg,.bmp,.gif";
    input.onchange = () => {
      const files = Array.from(input.files || []);
      if (files.length === 0) return;
      Promise.all(files.map((file) => file.arrayBuffer())).then((buffers) => {
        FS.mkdirTree("/uploads");
        const paths = files.map((file, i) => {
          const path = "/uploads/" + file.name.replace(/[\/\n]/g, "_");
          FS.writeFile(path, new Uint8Array(buffers[i]));
          return path;
        });
        Module.ccall("normviz_open_file", null, ["string"], [paths.join("\n")]);
      });
    };
    input.click();
  },

  // Every event that can change what the app shows wakes the frame loop; touch becomes the mouse
  // input the app already understands (Emscripten's GLFW drops a touch's position):
  //   one finger: rests = hover, lifts without moving = click (pins), moves = left drag (orbit or
  //   pan); two fingers: move = right drag (pan), spread or pinch = wheel steps (zoom) at their
  //   middle.
  normviz_page_watch: function() {
    const wake = () => { Module.normvizEvents = (Module.normvizEvents | 0) + 1; };
    for (const type of ["mousemove", "mousedown", "mouseup", "wheel", "keydown", "keyup", "drop",
                        "focus", "blur", "resize", "fullscreenchange", "visibilitychange",
                        "touchstart", "touchmove", "touchend", "touchcancel"])
      window.addEventListener(type, wake, true);
    const canvas = Module.canvas;
    const mouse = (type, x, y, button, buttons) => canvas.dispatchEvent(new MouseEvent(type, {
      clientX: x, clientY: y, button: button, buttons: buttons, bubbles: true, cancelable: true}));
    // The wheel in GLFW's terms: steps, positive up. (Emscripten 3.1.6's GLFW passes the browser's
    // deltaY on as is: pixels, pointing down, so one notch would zoom by a hundred steps.)
    const wheel = (x, y) => Module.ccall("normviz_wheel", null, ["number", "number"], [x, y]);
    window.addEventListener("wheel", (e) => {
      if (e.target !== canvas) return;
      e.preventDefault();
      e.stopPropagation();
      const unit = e.deltaMode === 1 ? 1 / 3 : e.deltaMode === 2 ? 80 : 1 / 100;
      wheel(-e.deltaX * unit, -e.deltaY * unit);
    }, {capture: true, passive: false});
    let one = null;  // {x0, y0, x, y, dragging, spent}: one finger's gesture
    let two = null;  // {x, y, spread}: two fingers' gesture
    const touch = (e) => {
      if (e.target !== canvas) return;
      e.preventDefault();   // no scrolling, no page zoom, no emulated mouse events
      e.stopPropagation();  // GLFW's own touch handlers lose the position
      const t = Array.from(e.touches);
      if (t.length >= 2) {
        const x = (t[0].clientX + t[1].clientX) / 2, y = (t[0].clientY + t[1].clientY) / 2;
        const spread = Math.hypot(t[0].clientX - t[1].clientX, t[0].clientY - t[1].clientY);
        if (one && one.dragging) mouse("mouseup", one.x, one.y, 0, 0);
        one = null;
        if (!two) {
          two = {x: x, y: y, spread: spread};
          mouse("mousemove", x, y, 0, 0);
          mouse("mousedown", x, y, 2, 2);
          return;
        }
        mouse("mousemove", x, y, 0, 2);
        const zoom = Math.log(spread / Math.max(two.spread, 1));
        if (Math.abs(zoom) > 0.03) {
          wheel(0, zoom * 4);
          two.spread = spread;
        }
        two.x = x;
        two.y = y;
        return;
      }
      if (two) {  // a two-finger gesture ends when a finger lifts; the other is spent
        mouse("mouseup", two.x, two.y, 2, 0);
        two = null;
        one = t.length === 1 ? {x0: 0, y0: 0, x: 0, y: 0, dragging: false, spent: true} : null;
        return;
      }
      if (e.type === "touchstart" && t.length === 1) {
        const x = t[0].clientX, y = t[0].clientY;
        one = {x0: x, y0: y, x: x, y: y, dragging: false, spent: false};
        mouse("mousemove", x, y, 0, 0);
        return;
      }
      if (!one) return;
      if (e.type === "touchmove" && t.length === 1) {
        one.x = t[0].clientX;
        one.y = t[0].clientY;
        if (!one.spent && !one.dragging && Math.hypot(one.x - one.x0, one.y - one.y0) > 8) {
          mouse("mousedown", one.x0, one.y0, 0, 1);
          one.dragging = true;
        }
        if (!one.spent) mouse("mousemove", one.x, one.y, 0, one.dragging ? 1 : 0);
        return;
      }
      if (t.length === 0) {
        if (one.dragging) {
          mouse("mouseup", one.x, one.y, 0, 0);
        } else if (!one.spent && e.type === "touchend") {
          mouse("mousedown", one.x, one.y, 0, 1);  // a tap: the app sees a click
          mouse("mouseup", one.x, one.y, 0, 0);
        }
        one = null;
      }
    };
    for (const type of ["touchstart", "touchmove", "touchend", "touchcancel"])
      window.addEventListener(type, touch, {capture: true, passive: false});
  },
});
