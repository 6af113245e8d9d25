// Photos as tensors (see image_input.hpp).
#include "image_input.hpp"

#include <stb_image.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <string_view>

#include "normviz/error.hpp"

namespace normviz {

namespace embedded {
extern const SampleFile files[];  // embedded_samples.cpp, made by embed_samples.cmake
}

namespace {

std::string sizeText(int64_t height, int64_t width) {
  return std::to_string(width) + "×" + std::to_string(height);
}

std::vector<unsigned char> fileBytes(const std::string& path) {
  if (path.starts_with(kSamplePrefix)) {
    const std::span<const unsigned char> bytes = sampleFile(path);
    return {bytes.begin(), bytes.end()};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NormError(path + ": cannot open the file");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (in.bad()) throw NormError(path + ": reading the file failed");
  if (bytes.empty()) throw NormError(path + ": the file is empty");
  return bytes;
}

ImageInfo infoOf(const std::string& path, const std::vector<unsigned char>& bytes) {
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width, &height,
                             &channels))
    throw NormError(path + ": not an image this program reads (" + stbi_failure_reason() +
                    "); PNG, JPEG, BMP, GIF, TGA and PNM are");
  return {height, width, channels >= 3};
}

// Decodes into x's plate(s) for sample n: 1 or 3 channels, each value / 255.
void decodeInto(const std::string& path, const std::vector<unsigned char>& bytes, int channels,
                Tensor& x, int64_t n) {
  int width = 0, height = 0, found = 0;
  const std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width, &height, &found,
                            channels),
      stbi_image_free);
  if (!pixels) throw NormError(path + ": decoding failed (" + stbi_failure_reason() + ")");
  const int64_t plane = int64_t{width} * height;
  float* out = x.data.data() + n * channels * plane;
  for (int64_t p = 0; p < plane; ++p)
    for (int c = 0; c < channels; ++c)
      out[c * plane + p] = static_cast<float>(pixels.get()[p * channels + c]) / 255.0f;
}

// One axis of the antialiased resize: for each output index, the first input index, the count,
// and the normalized weights (PyTorch's _compute_weights_aa, in the same precision).
struct Taps {
  std::vector<int64_t> first, count;
  std::vector<float> weights;  // max_taps per output index
  int64_t max_taps = 0;
};

Taps tapsOf(int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const float support = scale >= 1.0f ? scale : 1.0f;
  const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
  Taps t;
  t.max_taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  t.first.resize(static_cast<size_t>(out));
  t.count.resize(static_cast<size_t>(out));
  t.weights.assign(static_cast<size_t>(out * t.max_taps), 0.0f);
  for (int64_t i = 0; i < out; ++i) {
    const float center = static_cast<float>(scale * (static_cast<double>(i) + 0.5));
    const int64_t first =
        std::max(static_cast<int64_t>(static_cast<double>(center) - support + 0.5), int64_t{0});
    const int64_t count =
        std::min(static_cast<int64_t>(static_cast<double>(center) + support + 0.5), in) - first;
    float* w = t.weights.data() + i * t.max_taps;
    float total = 0.0f;
    for (int64_t j = 0; j < count; ++j) {
      const float d = static_cast<float>(
          (static_cast<double>(static_cast<float>(j + first) - center) + 0.5) * invscale);
      w[j] = std::max(0.0f, 1.0f - std::fabs(d));
      total += w[j];
    }
    if (total != 0.0f)
      for (int64_t j = 0; j < count; ++j) w[j] /= total;
    t.first[static_cast<size_t>(i)] = first;
    t.count[static_cast<size_t>(i)] = count;
  }
  return t;
}

// Resamples `lines` lines of `in` values each (consecutive values `stride` apart, lines `pitch`
// apart in `src`) into `out` values each, written the same way into `dst`.
void resampleLines(const float* src, float* dst, const Taps& t, int64_t lines, int64_t out,
                   int64_t stride, int64_t src_pitch, int64_t dst_pitch, int64_t line_step) {
  for (int64_t line = 0; line < lines; ++line) {
    const int64_t block = line / line_step, within = line % line_step;
    const float* s = src + block * src_pitch + within;
    float* d = dst + block * dst_pitch + within;
    for (int64_t i = 0; i < out; ++i) {
      const float* w = t.weights.data() + i * t.max_taps;
      const int64_t first = t.first[static_cast<size_t>(i)];
      float acc = s[first * stride] * w[0];
      for (int64_t j = 1; j < t.count[static_cast<size_t>(i)]; ++j)
        acc += s[(first + j) * stride] * w[j];
      d[i * stride] = acc;
    }
  }
}

}  // namespace

std::span<const unsigned char> sampleFile(const std::string& path) {
  const std::string name = path.substr(std::string_view(kSamplePrefix).size());
  for (const SampleFile* s = embedded::files; s->name; ++s)
    if (name == s->name || name + ".png" == s->name) return {s->bytes, s->size};
  std::string names;
  for (const SampleFile* s = embedded::files; s->name; ++s) {
    std::string known = s->name;
    if (known.ends_with(".png")) known.resize(known.size() - 4);
    names += (names.empty() ? "" : ", ") + known;
  }
  throw NormError(path + ": no such sample; the samples are " + names);
}

std::vector<std::string> sampleImageNames() {
  std::vector<std::string> names;
  for (const SampleFile* s = embedded::files; s->name; ++s) {
    const std::string name = s->name;
    if (name.ends_with(".png")) names.push_back(name.substr(0, name.size() - 4));
  }
  return names;
}

ImageInfo readImageInfo(const std::string& path) {
  return infoOf(path, fileBytes(path));
}

Tensor resizeBilinear(const Tensor& x, int64_t height, int64_t width) {
  const auto& dims = x.shape.dims;
  if (dims.size() < 2 || height < 1 || width < 1)
    throw NormError("resize needs a tensor of rank 2 or more and a size of at least 1×1");
  const int64_t h = dims[dims.size() - 2], w = dims.back();
  const int64_t planes = x.numel() / std::max<int64_t>(h * w, 1);
  Tensor cur = x;
  if (width != w) {  // along rows: lines are rows, values 1 apart
    Shape s = cur.shape;
    s.dims.back() = width;
    Tensor next(s);
    resampleLines(cur.data.data(), next.data.data(), tapsOf(w, width), planes * h, width, 1, w,
                  width, 1);
    cur = std::move(next);
  }
  if (height != h) {  // along columns: lines are columns, values a row apart
    Shape s = cur.shape;
    s.dims[s.dims.size() - 2] = height;
    Tensor next(s);
    resampleLines(cur.data.data(), next.data.data(), tapsOf(h, height), planes * width, height,
                  width, h * width, height * width, width);
    cur = std::move(next);
  }
  return cur;
}

Tensor readImages(const std::vector<std::string>& paths,
                  const std::optional<std::pair<int64_t, int64_t>>& resize, int64_t max_elements) {
  if (paths.empty()) throw NormError("no image given");
  std::vector<std::vector<unsigned char>> files;
  std::vector<ImageInfo> infos;
  bool color = false;
  for (const std::string& path : paths) {
    files.push_back(fileBytes(path));
    infos.push_back(infoOf(path, files.back()));
    color = color || infos.back().color;
  }
  const int64_t channels = color ? 3 : 1, n = static_cast<int64_t>(paths.size());
  for (size_t i = 1; i < infos.size() && !resize; ++i)
    if (infos[i].height != infos[0].height || infos[i].width != infos[0].width)
      throw NormError(paths[0] + " is " + sizeText(infos[0].height, infos[0].width) + " but " +
                      paths[i] + " is " + sizeText(infos[i].height, infos[i].width) +
                      "; a batch needs one size: give --resize H,W");
  const auto limit = [&](int64_t h, int64_t w, const std::string& what) {
    if (h * w > max_elements / (n * channels))
      throw NormError(what + ": " + std::to_string(n) + " image(s) of " + std::to_string(channels) +
                      " channel(s) at " + sizeText(h, w) + " exceed the limit of " +
                      std::to_string(max_elements) + " elements; give --resize H,W");
  };
  if (resize) limit(resize->first, resize->second, "--resize");
  Tensor batch;
  for (int64_t i = 0; i < n; ++i) {
    const ImageInfo& info = infos[static_cast<size_t>(i)];
    limit(info.height, info.width, paths[static_cast<size_t>(i)]);
    Tensor one(Shape{1, channels, info.height, info.width});
    decodeInto(paths[static_cast<size_t>(i)], files[static_cast<size_t>(i)],
               static_cast<int>(channels), one, 0);
    if (resize) one = resizeBilinear(one, resize->first, resize->second);
    if (i == 0) batch = Tensor(Shape{n, channels, one.shape.dims[2], one.shape.dims[3]});
    std::copy(one.data.begin(), one.data.end(), batch.data.begin() + i * one.numel());
  }
  return batch;
}

std::vector<std::string> splitImagePaths(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (out.back().empty()) throw NormError("an image file name is empty in \"" + text + "\"");
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

bool looksLikeImage(const std::string& path) {
  if (path.starts_with(kSamplePrefix)) return true;
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* known : {"png", "jpg", "jpeg", "bmp", "gif", "tga", "pgm", "ppm", "pnm"})
    if (ext == known) return true;
  return false;
}

}  // namespace normviz
