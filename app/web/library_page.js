// The page's side of the browser platform (platform_web.cpp), linked with --js-library: the size
// of the page, the address bar, downloads, full screen, and the test hook's ready flag.
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

  normviz_page_ready: function() {
    if (window.normviz) window.normviz.ready = true;
  },
});
