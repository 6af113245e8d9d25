// Photos as tensors: PNG, JPEG, BMP, GIF (first frame), TGA and PNM files decoded by stb_image into
// x of shape (N, C, H, W) with values in [0, 1], as torchvision's ToTensor makes them (each 8-bit
// value divided by 255). C is 3 when any image has colour and 1 when all are gray; an alpha channel
// is dropped, and a gray image in a colour batch is repeated into R, G and B (PIL's
// convert("RGB")).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "normviz/tensor.hpp"

namespace normviz {

// The samples, embedded in the program: the photos of assets/images (credits in its CREDITS.md) and
// the tensors of assets/data. A path `sample:NAME` opens one wherever the program runs: a photo
// by its name with or without .png (sample:chelsea), a tensor file by its name
// (sample:digits-head.npz:x32 for one of its arrays).
struct SampleFile {
  const char* name;  // "chelsea.png"
  const unsigned char* bytes;
  size_t size;
};
inline constexpr const char* kSamplePrefix = "sample:";
// The bytes of the sample `path` names ("sample:NAME"); throws NormError listing the samples.
std::span<const unsigned char> sampleFile(const std::string& path);
// The photos' names without .png, in order.
std::vector<std::string> sampleImageNames();

// An image's size before decoding (stb_image reads only the header).
struct ImageInfo {
  int64_t height = 0, width = 0;
  bool color = false;  // three colour channels (with or without alpha)
};
// Throws NormError naming the file: missing, unreadable, not an image stb_image decodes.
ImageInfo readImageInfo(const std::string& path);

// The images as one batch. `resize` (height, width) resizes every image with antialiased bilinear
// interpolation (resizeBilinear); without it, images of different sizes are an error naming both
// files and sizes. Refuses a batch of more than `max_elements` before decoding it.
Tensor readImages(const std::vector<std::string>& paths,
                  const std::optional<std::pair<int64_t, int64_t>>& resize, int64_t max_elements);

// Resizes the last two dims of x, as PyTorch's
// F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True):
// a triangle filter stretched by the scale when shrinking (so each output pixel averages the input
// pixels it covers), plain bilinear when growing; width first, then height.
Tensor resizeBilinear(const Tensor& x, int64_t height, int64_t width);

// "a.png,b.jpg" → {"a.png", "b.jpg"}; an empty name is an error.
std::vector<std::string> splitImagePaths(const std::string& text);
// True for `sample:NAME` or a file name that ends like an image stb_image decodes (.png, .jpg,
// .jpeg, .bmp, .gif, .tga, .pgm, .ppm, .pnm), in any case.
bool looksLikeImage(const std::string& path);

}  // namespace normviz
