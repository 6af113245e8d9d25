# Shared shell helpers for scripts/run and scripts/test: package installation and parallelism.
# shellcheck shell=bash disable=SC2034  # the package lists are used by the scripts that source this
# Source it; it defines functions and package lists and changes nothing by itself.

# What building and running the app needs (Debian/Ubuntu package names). Boost.Context runs the
# emulated GPU device's threads as fibers.
NORMVIZ_APP_PACKAGES=(
  cmake make g++ pkg-config
  libimgui-dev libglfw3-dev libgl-dev libgl1-mesa-dri libglm-dev libstb-dev
  nlohmann-json3-dev libcli11-dev libhwy-dev libtbb-dev libboost-context-dev
)
# What the test suite adds: doctest, clang with libFuzzer's runtime, a virtual X server for the
# app's screenshot tests, xdotool and xwd to drive and capture the real window, and PyTorch for the
# capture helper's test (python/normviz_capture.py runs real models; the engine's PyTorch fixtures
# are committed: scripts/make-fixtures.py) and, with PIL decoding the same files, --input-image's.
NORMVIZ_TEST_PACKAGES=(
  "${NORMVIZ_APP_PACKAGES[@]}"
  doctest-dev clang libclang-rt-14-dev xvfb xauth xdotool x11-apps python3-torch python3-numpy python3-pil
)

# Number of parallel build/test jobs: every core this process may use.
normviz_jobs() {
  nproc 2>/dev/null || echo 2
}

# normviz_install_packages pkg...: installs those not installed yet with apt-get, as root or with
# sudo. Does nothing (and needs no privileges) when everything is present.
normviz_install_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi
  echo "normviz: installing missing packages: ${missing[*]}" >&2
  local run=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "normviz: not root and no sudo; install these packages first: ${missing[*]}" >&2
      return 1
    fi
    run=(sudo)
  fi
  "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
}

# What the browser build adds: Debian's Emscripten, Chromium for its tests, dpkg-dev for
# `apt-get source` (Dear ImGui's sources), node and npm for puppeteer-core.
NORMVIZ_WEB_PACKAGES=(
  emscripten dpkg-dev fonts-dejavu-core libglm-dev libstb-dev nlohmann-json3-dev libcli11-dev libhwy-dev libgl-dev
  python3
)
NORMVIZ_WEB_TEST_PACKAGES=(chromium)

# normviz_install_commands COMMAND:PACKAGE...: installs each package whose command is missing. For
# node and npm: a machine may have them from elsewhere (a NodeSource nodejs bundles npm and
# conflicts with Debian's npm package), and any will do.
normviz_install_commands() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [[ ${#missing[@]} -eq 0 ]] || normviz_install_packages "${missing[@]}"
}

# normviz_imgui_sources DIR: unpacks the sources of the Dear ImGui that libimgui-dev ships (Debian's
# source package, same version) under DIR once, and prints the unpacked folder. Uses a private apt
# configuration for the deb-src entry, so nothing in /etc/apt changes.
normviz_imgui_sources() {
  local dir=$1 found
  found=$(find "$dir" -maxdepth 1 -type d -name 'imgui-*' 2>/dev/null | head -n 1)
  if [[ -n $found && -f $found/imgui.cpp ]]; then
    echo "$found"
    return 0
  fi
  mkdir -p "$dir/apt/parts" "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
  # The machine's own mirror and suites, from its deb822 or one-line sources.
  local uri suite
  uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1 | awk '{print $2}')
  suite=$(grep -h '^Suites:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1 |
    awk '{print $2}')
  if [[ -z $uri ]]; then
    uri=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | head -n 1 | awk '{print $2}')
    suite=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | head -n 1 | awk '{print $3}')
  fi
  local signed
  signed=$(grep -h '^Signed-By:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n%s\n' \
    "$uri" "$suite" "${signed:-Trusted: yes}" >"$dir/apt/parts/src.sources"
  local opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$dir/apt/parts"
    -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache")
  apt-get "${opts[@]}" update -q >&2 || return 1
  (cd "$dir" && apt-get "${opts[@]}" source -q imgui >&2) || return 1
  found=$(find "$dir" -maxdepth 1 -type d -name 'imgui-*' | head -n 1)
  [[ -f $found/imgui.cpp ]] || { echo "normviz: no imgui sources unpacked in $dir" >&2; return 1; }
  echo "$found"
}
