// The view spec's field table and its three forms: argv, JSON, URL query.
#include "view_spec.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "image_input.hpp"
#include "json_fields.hpp"
#include "normviz/error.hpp"
#include "normviz/plan.hpp"

namespace normviz {

namespace {

// ---- text of one value ---------------------------------------------------------------------

template <typename T>
std::string joined(const std::vector<T>& values) {
  std::string out;
  for (const T& v : values) {
    if (!out.empty()) out += ',';
    out += std::to_string(v);
  }
  return out;
}

int64_t integerOf(const std::string& text, int64_t lo, int64_t hi) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec == std::errc::invalid_argument || ptr != end)
    throw NormError("'" + text + "' is not an integer");
  if (ec == std::errc::result_out_of_range || v < lo || v > hi)
    throw NormError("'" + text + "' is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

uint64_t unsignedOf(const std::string& text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw NormError("'" + text + "' is not an integer from 0 to 18446744073709551615");
  return v;
}

// A whole decimal number ("1e-5", "-0.25"): nothing before or after it, no hex, no inf or nan.
bool readNumber(const std::string& text, double& v) {
  if (text.empty()) return false;
#if defined(__cpp_lib_to_chars)
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  return ec == std::errc() && ptr == end;
#else
  // The browser build's C++ library has no floating-point from_chars yet: strtod, held to the
  // same form (it would also skip spaces and read hex).
  for (const char c : text)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E'))
      return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtod(text.c_str(), &end);
  return errno == 0 && end == text.c_str() + text.size();
#endif
}

double numberOf(const std::string& text, double lo, double hi) {
  double v = 0;
  if (!readNumber(text, v) || !std::isfinite(v)) throw NormError("'" + text + "' is not a number");
  if (v < lo || v > hi)
    throw NormError("'" + text + "' is outside " + nlohmann::json(lo).dump() + ".." +
                    nlohmann::json(hi).dump());
  return v;
}

// The shortest text that reads back to the same double.
std::string numberText(double v) {
  return nlohmann::json(v).dump();
}
std::string numberText(float v) {
  return nlohmann::json(static_cast<double>(v)).dump();
}

bool switchOf(const std::string& text) {
  if (text.empty() || text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  throw NormError("'" + text + "' is not true or false");
}

// Throws unless `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF): the text fields go into JSON and onto the screen, which hold nothing else.
void checkUtf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    int extra = 0;
    uint32_t cp = 0, min = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      extra = 1, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      extra = 3, cp = b & 0x07, min = 0x10000;
    } else {
      extra = -1;
    }
    bool ok = extra > 0;
    for (int k = 1; ok && k <= extra; ++k) {
      if (i + static_cast<size_t>(k) >= text.size()) {
        ok = false;
        break;
      }
      const auto c = static_cast<unsigned char>(text[i + static_cast<size_t>(k)]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      throw NormError("'" + text.substr(0, i) + "...' is not valid UTF-8 text (byte " +
                      std::to_string(i) + ")");
    i += static_cast<size_t>(extra) + 1;
  }
}

std::string pathOf(const std::string& text) {
  if (text.empty()) throw NormError("a file name is empty");
  checkUtf8(text);
  return text;
}

template <typename E>
std::optional<std::string> nameIfSet(const std::optional<E>& value) {
  if (!value) return std::nullopt;
  return std::string(nameOf(*value));
}

const ViewSpec kSpec{};
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

// ---- the table -------------------------------------------------------------------------------

// The table is laid out by hand (clang-format does not read lambdas behind macros).
// clang-format off
#define NV_PARSE [](ViewSpec & s, const std::string& t)
#define NV_PRINT [](const ViewSpec& s) -> std::optional<std::string>

const std::array kFields = {
    SpecField{"norm", "layer: batch|layer|instance|group|layer2d|rms|custom", SpecValue::Text, true,
              NV_PARSE { s.layer.norm = parseNormKind(t); },
              NV_PRINT {
                return std::optional<std::string>(normKindName(s.layer.norm));
              }},
    SpecField{"groups", "GroupNorm: number of groups G (must divide C)", SpecValue::Integer, true,
              NV_PARSE { s.layer.groups = integerOf(t, 1, kMaxInt64); },
              NV_PRINT {
                return std::optional<std::string>(std::to_string(s.layer.groups));
              }},
    SpecField{"normalized-shape", "LayerNorm/RMSNorm: trailing dims, e.g. 4,2,2 (default: the last)",
              SpecValue::List, true,
              NV_PARSE {  // empty: the last dim, the default
                s.layer.normalized_shape = t.empty() ? std::vector<int64_t>{} : parseShape(t).dims;
              },
              NV_PRINT {
                return std::optional<std::string>(joined(s.layer.normalized_shape));
              }},
    SpecField{"axes", "custom: the axes to reduce, e.g. 0,2,3", SpecValue::List, true,
              NV_PARSE { s.layer.axes = t.empty() ? std::vector<int>{} : parseAxes(t); },
              NV_PRINT { return std::optional<std::string>(joined(s.layer.axes)); }},
    SpecField{"eps", "eps added to the variance", SpecValue::Number, true,
              NV_PARSE { s.layer.eps = numberOf(t, 0.0, 1.0); },
              NV_PRINT {
                return std::optional<std::string>(numberText(s.layer.eps));
              }},
    SpecField{"momentum", "BatchNorm: momentum, or 'none' for a cumulative average",
              SpecValue::Text, true, NV_PARSE { s.layer.momentum = parseMomentum(t); },
              NV_PRINT {
                return std::optional<std::string>(s.layer.momentum ? numberText(*s.layer.momentum) : "none");
              }},
    SpecField{"eval", "BatchNorm: evaluation mode (normalize with running statistics)",
              SpecValue::Switch, true, NV_PARSE { s.layer.eval = switchOf(t); },
              NV_PRINT { return std::optional<std::string>(s.layer.eval ? "true" : "false"); }},
    SpecField{"running-mean", "BatchNorm: running_mean (C), as --input", SpecValue::Text, true,
              NV_PARSE { s.layer.running_mean = pathOf(t); },
              NV_PRINT {
                return std::optional<std::string>(s.layer.running_mean);
              }},
    SpecField{"running-var", "BatchNorm: running_var (C), as --input", SpecValue::Text, true,
              NV_PARSE { s.layer.running_var = pathOf(t); },
              NV_PRINT {
                return std::optional<std::string>(s.layer.running_var);
              }},
    SpecField{"weight", "affine weight, as --input", SpecValue::Text, true,
              NV_PARSE { s.layer.weight = pathOf(t); },
              NV_PRINT { return std::optional<std::string>(s.layer.weight); }},
    SpecField{"bias", "affine bias, as --input", SpecValue::Text, true,
              NV_PARSE { s.layer.bias = pathOf(t); },
              NV_PRINT { return std::optional<std::string>(s.layer.bias); }},
    SpecField{"input",
              "input tensor: x.npy, FILE.npz:NAME or FILE.safetensors:NAME (float32, float64, "
              "float16 or bfloat16; C order); overrides --shape",
              SpecValue::Text, true, NV_PARSE { s.layer.input = pathOf(t); },
              NV_PRINT { return std::optional<std::string>(s.layer.input); }},
    SpecField{"input-image", "photos as the input batch, e.g. a.png,b.jpg: (N, 3 or 1, H, W) in "
              "[0, 1] like ToTensor; overrides --shape", SpecValue::Text, true,
              NV_PARSE {  // empty: none (a lesson step back to generated data)
                std::vector<std::string> paths;
                if (!t.empty()) paths = splitImagePaths(t);
                for (std::string& p : paths) p = pathOf(p);
                s.layer.input_images = std::move(paths);
              },
              NV_PRINT {
                std::string text;
                for (const std::string& p : s.layer.input_images) {
                  if (!text.empty()) text += ",";
                  text += p;
                }
                return std::optional<std::string>(text);
              }},
    SpecField{"resize", "with --input-image: resize every photo to H,W (antialiased bilinear, "
              "as torchvision's Resize)", SpecValue::List, true,
              NV_PARSE {
                if (t.empty()) {
                  s.layer.resize.reset();
                  return;
                }
                const Shape size = parseShape(t);
                if (size.dims.size() != 2) throw NormError("give the size as H,W, e.g. 224,224");
                s.layer.resize = std::pair{size.dims[0], size.dims[1]};
              },
              NV_PRINT {
                if (!s.layer.resize) return std::optional<std::string>("");
                return std::optional<std::string>(std::to_string(s.layer.resize->first) + "," +
                                                  std::to_string(s.layer.resize->second));
              }},
    SpecField{"shape", "input shape when generated, e.g. 3,4,2,2", SpecValue::List, true,
              NV_PARSE { s.layer.shape = parseShape(t); },
              NV_PRINT {
                return std::optional<std::string>(joined(s.layer.shape.dims));
              }},
    SpecField{"init", "generated input: randn|uniform|arange|constant|worked-example|large-offset|"
              "outlier-features",
              SpecValue::Text, true,
              NV_PARSE {
                checkInitName(t);
                s.layer.init = t;
              },
              NV_PRINT { return std::optional<std::string>(s.layer.init); }},
    SpecField{"seed", "random seed for randn/uniform/large-offset/outlier-features", SpecValue::Integer, true,
              NV_PARSE { s.layer.seed = unsignedOf(t); },
              NV_PRINT {
                return std::optional<std::string>(std::to_string(s.layer.seed));
              }},
    SpecField{"max-elements", "refuse tensors larger than this", SpecValue::Integer, true,
              NV_PARSE { s.layer.max_elements = integerOf(t, 1, kMaxInt64); },
              NV_PRINT {
                return std::optional<std::string>(std::to_string(s.layer.max_elements));
              }},
    SpecField{"affine", "affine on with random weight and bias (unless --weight/--bias given)",
              SpecValue::Switch, false, NV_PARSE { s.affine = switchOf(t); },
              NV_PRINT { return std::optional<std::string>(s.affine ? "true" : "false"); }},
    SpecField{"backward", "backward mode: dy, the per-group sums, dx, dweight and dbias",
              SpecValue::Switch, false, NV_PARSE { s.backward = switchOf(t); },
              NV_PRINT { return std::optional<std::string>(s.backward ? "true" : "false"); }},
    SpecField{"grad-init", "backward mode's dy: randn|ones|arange", SpecValue::Text, false,
              NV_PARSE {
                checkGradInitName(t);
                s.grad_init = t;
              },
              NV_PRINT { return std::optional<std::string>(s.grad_init); }},
    SpecField{"variance", "float32 variance: two-pass, welford, naive, pairwise", SpecValue::Text,
              false, NV_PARSE { s.variance = parseVariance(t); },
              NV_PRINT {
                return std::optional<std::string>(varianceName(s.variance));
              }},
    SpecField{"backend", "fp32, fp64, gpu or gpu-emulated", SpecValue::Text, false,
              NV_PARSE { s.backend = parseName<Backend>(t, "backend"); },
              NV_PRINT { return nameIfSet(s.backend); }},
    SpecField{"threads", "CPU threads for the CPU backends (0 = every core)", SpecValue::Integer,
              false, NV_PARSE { s.threads = static_cast<int>(integerOf(t, 0, 4096)); },
              NV_PRINT {
                return std::optional<std::string>(std::to_string(s.threads));
              }},
    SpecField{"hover", "light the region of this element, e.g. 0,1,0,0 (pinned); none: no element",
              SpecValue::List, false,
              NV_PARSE {
                if (t == "none") {
                  s.hover.reset();
                  return;
                }
                const std::vector<int64_t> index = parseIntegers(t, "hover");
                if (index.size() > static_cast<size_t>(kMaxRank))
                  throw NormError("'" + t + "' has more indices than a tensor has dims (4)");
                for (int64_t i : index)
                  if (i < 0) throw NormError("index " + std::to_string(i) + " is negative");
                s.hover = index;
              },
              NV_PRINT {
                if (!s.hover) return std::nullopt;
                return joined(*s.hover);
              }},
    SpecField{"layout", "single (x, statistics, y) or compare (four layers)", SpecValue::Text,
              false, NV_PARSE { s.layout = parseName<LayoutMode>(t, "layout"); },
              NV_PRINT { return nameIfSet(s.layout); }},
    SpecField{"display",
              "cubes, sheet, plates (an H x W picture per (n, c)), image (C = 1 or 3: the photos), "
              "or auto (by size and shape)",
              SpecValue::Text,
              false,
              NV_PARSE {
                s.display = t == "auto" ? std::nullopt
                                        : std::optional(parseName<DisplayMode>(t, "display"));
              },
              NV_PRINT { return nameIfSet(s.display); }},
    SpecField{"explode", "0 = compact blocks (faded cubes as ghosts) .. 1 = separate plates",
              SpecValue::Number, false,
              NV_PARSE { s.explode = static_cast<float>(numberOf(t, 0.0, 1.0)); },
              NV_PRINT {
                if (!s.explode) return std::nullopt;
                return numberText(*s.explode);
              }},
    SpecField{"color-by", "value or groups", SpecValue::Text, false,
              NV_PARSE { s.color_by = parseName<ColorBy>(t, "color-by"); },
              NV_PRINT { return nameIfSet(s.color_by); }},
    SpecField{"view", "front, top or isometric", SpecValue::Text, false,
              NV_PARSE { s.view = parseName<ViewPreset>(t, "view"); },
              NV_PRINT { return nameIfSet(s.view); }},
    SpecField{"theme", "dark or light", SpecValue::Text, false,
              NV_PARSE { s.theme = parseName<Theme>(t, "theme"); },
              NV_PRINT { return nameIfSet(s.theme); }},
    SpecField{"colormap", "viridis or cividis (inputs; outputs use a diverging map)",
              SpecValue::Text, false, NV_PARSE { s.colormap = parseName<ColorMap>(t, "colormap"); },
              NV_PRINT { return nameIfSet(s.colormap); }},
    SpecField{"font-scale", "text size, 1 = 13 px (default 1.5)", SpecValue::Number, false,
              NV_PARSE { s.font_scale = static_cast<float>(numberOf(t, 0.5, 4.0)); },
              NV_PRINT {
                if (!s.font_scale) return std::nullopt;
                return numberText(*s.font_scale);
              }},
    SpecField{"plot", "a plot under the tensor: none|running-stats|batch-spread|histogram|"
              "variance-error", SpecValue::Text, false,
              NV_PARSE { s.plot = parseName<PlotKind>(t, "plot"); },
              NV_PRINT { return std::optional<std::string>(nameOf(s.plot)); }},
    SpecField{"capture",
              "a capture folder (python/normviz_capture.py): open one of its layers (the panel "
              "lists them all)",
              SpecValue::Text, false, NV_PARSE { s.capture = pathOf(t); },
              NV_PRINT { return std::optional<std::string>(s.capture); }},
    SpecField{"layer", "with --capture: the layer to open, as the capture names it (features.1)",
              SpecValue::Text, false,
              NV_PARSE {
                if (t.empty()) throw NormError("a layer name is empty");
                checkUtf8(t);
                s.capture_layer = t;
              },
              NV_PRINT { return std::optional<std::string>(s.capture_layer); }},
    SpecField{"lesson", "open a lesson (normviz lessons lists them)", SpecValue::Text, false,
              NV_PARSE {
                if (t.empty()) throw NormError("a lesson name is empty");
                checkUtf8(t);
                s.lesson = t;
              },
              NV_PRINT { return std::optional<std::string>(s.lesson); }},
    SpecField{"lesson-file", "a lesson file of your own (JSON, see assets/lessons)",
              SpecValue::Text, false, NV_PARSE { s.lesson_file = pathOf(t); },
              NV_PRINT { return std::optional<std::string>(s.lesson_file); }},
    SpecField{"step", "with --lesson: the step to open, from 1", SpecValue::Integer, false,
              NV_PARSE { s.step = static_cast<int>(integerOf(t, 1, 1000)); },
              NV_PRINT { return std::optional<std::string>(std::to_string(s.step)); }},
    SpecField{"presenter", "with --lesson: presenter mode (full screen, large type)",
              SpecValue::Switch, false, NV_PARSE { s.presenter = switchOf(t); },
              NV_PRINT { return std::optional<std::string>(s.presenter ? "true" : "false"); }},
    SpecField{"stepper", "show the kernel stepper and colour the lit group by thread",
              SpecValue::Switch, false, NV_PARSE { s.stepper = switchOf(t); },
              NV_PRINT { return std::optional<std::string>(s.stepper ? "true" : "false"); }},
    SpecField{"stage", "stepper: reduction stage to show", SpecValue::Integer, false,
              NV_PARSE { s.stage = static_cast<int>(integerOf(t, 0, 64)); },
              NV_PRINT {
                if (!s.stage) return std::nullopt;
                return std::to_string(*s.stage);
              }},
    SpecField{"lane", "stepper: thread whose partial to show (-1: every lane)", SpecValue::Integer,
              false, NV_PARSE { s.lane = static_cast<int>(integerOf(t, -1, 1023)); },
              NV_PRINT { return std::optional<std::string>(std::to_string(s.lane)); }},
    SpecField{"block-size", "stepper: threads per block (multiple of 32)", SpecValue::Integer,
              false, NV_PARSE { s.block_size = static_cast<int>(integerOf(t, 0, 1024)); },
              NV_PRINT {
                return std::optional<std::string>(std::to_string(s.block_size));
              }},
};

#undef NV_PARSE
#undef NV_PRINT
// clang-format on

// A field's text when it differs from the default's, else nullopt: what the writers write.
std::optional<std::string> changedText(const SpecField& f, const ViewSpec& spec) {
  std::optional<std::string> text = f.print(spec);
  if (text == f.print(kSpec)) return std::nullopt;
  return text;
}

std::string jsonKey(const char* flag) {
  std::string key = flag;
  for (char& c : key)
    if (c == '-') c = '_';
  return key;
}

// ---- URL encoding ----------------------------------------------------------------------------

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~' || c == ',';
}

std::string percentEncoded(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (unreserved(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

std::string percentDecoded(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0)
        throw NormError("'" + std::string(text) +
                        "' has a '%' that is not followed by two hex digits");
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::span<const SpecField> specFields() {
  return kFields;
}

const SpecField* findSpecField(std::string_view flag) {
  for (const SpecField& f : kFields)
    if (flag == f.flag || flag == jsonKey(f.flag)) return &f;
  return nullptr;
}

void setSpecField(ViewSpec& spec, const SpecField& field, const std::string& text) {
  try {
    field.parse(spec, text);
  } catch (const NormError& e) {
    throw NormError(std::string("--") + field.flag + ": " + e.what());
  }
}

std::vector<std::string> specToArgv(const ViewSpec& spec) {
  std::vector<std::string> args;
  for (const SpecField& f : kFields) {
    const std::optional<std::string> text = changedText(f, spec);
    if (!text) continue;
    args.push_back(std::string("--") + f.flag);
    if (f.value != SpecValue::Switch) args.push_back(*text);
  }
  return args;
}

ViewSpec specFromArgv(std::span<const std::string> args, ViewSpec spec) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) throw NormError("'" + arg + "' is not a --flag");
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const SpecField* f = findSpecField(name);
    if (f == nullptr || name.find('_') != std::string::npos)
      throw NormError("unknown flag --" + name);
    std::string text;
    if (eq != std::string::npos) {
      text = arg.substr(eq + 1);
    } else if (f->value == SpecValue::Switch) {
      text = "true";
    } else if (i + 1 < args.size()) {
      text = args[++i];
    } else {
      throw NormError("--" + name + " needs a value");
    }
    setSpecField(spec, *f, text);
  }
  return spec;
}

nlohmann::json specToJson(const ViewSpec& spec) {
  nlohmann::json j = nlohmann::json::object();
  for (const SpecField& f : kFields) {
    const std::optional<std::string> text = changedText(f, spec);
    if (!text) continue;
    const std::string key = jsonKey(f.flag);
    if (f.value == SpecValue::Switch) {
      j[key] = *text == "true";
    } else if (f.value == SpecValue::Integer && std::string_view(f.flag) == "seed") {
      j[key] = spec.layer.seed;  // every uint64
    } else if (f.value == SpecValue::Integer) {
      j[key] = integerOf(*text, std::numeric_limits<int64_t>::min(), kMaxInt64);
    } else if (f.value == SpecValue::Number) {
      j[key] = nlohmann::json::parse(*text);
    } else {
      j[key] = *text;
    }
  }
  return j;
}

ViewSpec specFromJson(const nlohmann::json& object, ViewSpec spec) {
  if (!object.is_object()) throw NormError("a view is a JSON object of fields");
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    const SpecField* f = findSpecField(key);
    if (f == nullptr || key.find('-') != std::string::npos)
      throw NormError("unknown key \"" + key + "\"");
    const nlohmann::json& v = it.value();
    std::string text;
    try {
      switch (f->value) {
        case SpecValue::Switch:
          text = jsonBool(v, key) ? "true" : "false";
          break;
        case SpecValue::Integer:
          text =
              v.is_number_unsigned()
                  ? std::to_string(v.get<uint64_t>())
                  : std::to_string(jsonInt(v, key, std::numeric_limits<int64_t>::min(), kMaxInt64));
          break;
        case SpecValue::Number:
          text =
              v.is_string() ? v.get<std::string>() : numberText(jsonNumber(v, key, -1e300, 1e300));
          break;
        case SpecValue::List:
          text = jsonListText(v, key);
          break;
        case SpecValue::Text:
          text = v.is_number() ? numberText(jsonNumber(v, key, -1e300, 1e300)) : jsonString(v, key);
          break;
      }
      f->parse(spec, text);
    } catch (const NormError& e) {
      const std::string what = e.what();
      throw NormError(what.rfind("\"" + key + "\"", 0) == 0 ? what : "\"" + key + "\": " + what);
    }
  }
  return spec;
}

std::string specToQuery(const ViewSpec& spec) {
  std::string out;
  for (const SpecField& f : kFields) {
    const std::optional<std::string> text = changedText(f, spec);
    if (!text) continue;
    if (!out.empty()) out += '&';
    out += std::string(f.flag) + "=" + percentEncoded(*text);
  }
  return out;
}

ViewSpec specFromQuery(std::string_view query, ViewSpec spec) {
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view part = query.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const std::string name = percentDecoded(part.substr(0, eq));
    const SpecField* f = findSpecField(name);
    if (f == nullptr || name.find('_') != std::string::npos)
      throw NormError("unknown parameter " + name + "=");
    try {
      const std::string text = eq == std::string_view::npos
                                   ? (f->value == SpecValue::Switch ? "true" : "")
                                   : percentDecoded(part.substr(eq + 1));
      f->parse(spec, text);
    } catch (const NormError& e) {
      throw NormError(name + "=: " + e.what());
    }
  }
  return spec;
}

LayerOptions layerFromJson(const nlohmann::json& object) {
  if (!object.is_object()) throw NormError("a layer is a JSON object of fields");
  for (auto it = object.begin(); it != object.end(); ++it) {
    const SpecField* f = findSpecField(it.key());
    if (f != nullptr && !f->layer)
      throw NormError("\"" + it.key() + "\" is not a field of the layer or its data");
  }
  return specFromJson(object).layer;
}

nlohmann::json layerToJson(const LayerOptions& layer) {
  ViewSpec spec;
  spec.layer = layer;
  return specToJson(spec);
}

std::string specCommandLine(const ViewSpec& spec) {
  std::string out = "normviz";
  for (const std::string& arg : specToArgv(spec)) {
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_.,/:+=") == std::string::npos;
    if (plain) {
      out += " " + arg;
      continue;
    }
    out += " '";
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += "'";
  }
  return out;
}

}  // namespace normviz
