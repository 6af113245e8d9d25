// The one exception type core throws: a message a user can act on.
#pragma once

#include <stdexcept>
#include <string>

namespace normviz {

// Every invalid request (bad shape, bad flag, malformed file) throws this, before changing anything.
class NormError : public std::runtime_error {
 public:
  explicit NormError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace normviz
