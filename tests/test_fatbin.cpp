// The kernels carry machine code for every GPU architecture the build names, and PTX for newer
// ones: this test reads the fatbins embedded in the normviz binary (its .nv_fatbin ELF section)
// and lists each image's kind and architecture from its entry header, as cuobjdump -lelf -lptx
// would (this toolkit ships no cuobjdump).
//
// A fatbin is a header (magic 0xBA55ED50, version, header size, payload size) followed by entries;
// each entry header holds its kind (1 PTX, 2 ELF), its header size, its payload size and, at byte
// 28, the architecture as major*10 + minor.
#include <doctest/doctest.h>
#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

template <typename T>
T read(const std::vector<char>& bytes, size_t at) {
  T v{};
  if (at + sizeof(T) <= bytes.size()) std::memcpy(&v, bytes.data() + at, sizeof(T));
  return v;
}

// The bytes of ELF section `name` of the file at `path` (64-bit little-endian ELF).
std::vector<char> elfSection(const std::string& path, const std::string& name) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> file((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  const auto eh = read<Elf64_Ehdr>(file, 0);
  REQUIRE(std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0);
  const auto strtab = read<Elf64_Shdr>(file, eh.e_shoff + size_t{eh.e_shstrndx} * eh.e_shentsize);
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    const auto sh = read<Elf64_Shdr>(file, eh.e_shoff + i * eh.e_shentsize);
    const char* section_name = file.data() + strtab.sh_offset + sh.sh_name;
    if (name == section_name)
      return std::vector<char>(
          file.begin() + static_cast<std::ptrdiff_t>(sh.sh_offset),
          file.begin() + static_cast<std::ptrdiff_t>(sh.sh_offset + sh.sh_size));
  }
  return {};
}

struct Image {
  int kind;  // 1 PTX, 2 ELF (SASS)
  int arch;  // 75, 80, ...
};

std::vector<Image> fatbinImages(const std::vector<char>& section) {
  std::vector<Image> images;
  size_t at = 0;
  while (at + 16 <= section.size()) {
    if (read<uint32_t>(section, at) != 0xBA55ED50u) {  // padding between fatbins
      at += 8;
      continue;
    }
    const size_t header = read<uint16_t>(section, at + 6);
    const size_t end = at + header + read<uint64_t>(section, at + 8);
    size_t entry = at + header;
    while (entry + 32 <= end && entry + 32 <= section.size()) {
      images.push_back(
          {read<uint16_t>(section, entry), static_cast<int>(read<uint32_t>(section, entry + 28))});
      entry += read<uint32_t>(section, entry + 4) + read<uint64_t>(section, entry + 8);
    }
    at = end;
  }
  return images;
}

std::set<int> parseList(const std::string& list) {
  std::set<int> out;
  std::stringstream s(list);
  for (std::string item; std::getline(s, item, ',');)
    if (!item.empty()) out.insert(std::stoi(item));
  return out;
}

}  // namespace

TEST_CASE("the binary carries SASS for every listed architecture and PTX for newer GPUs") {
  const std::vector<Image> images = fatbinImages(elfSection(NORMVIZ_BINARY, ".nv_fatbin"));
  REQUIRE_FALSE(images.empty());
  std::set<int> sass, ptx;
  for (const Image& i : images) (i.kind == 2 ? sass : ptx).insert(i.arch);
  std::string listed;
  for (const Image& i : images)
    listed += std::string(i.kind == 2 ? " sm_" : " compute_") + std::to_string(i.arch);
  MESSAGE("images in the binary:" << listed);
  CHECK(sass == parseList(NORMVIZ_EXPECTED_SASS));
  CHECK(ptx == parseList(NORMVIZ_EXPECTED_PTX));
  // The architectures people have, from Turing (T4, RTX 20xx) to Hopper.
  for (int arch : {75, 80, 86, 89, 90}) CHECK(sass.count(arch) == 1);
  CHECK(ptx.count(90) == 1);
}
