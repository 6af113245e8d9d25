// stb's image decoder and PNG writer, compiled here for the browser: the desktop links Debian's
// libstb, which has no WebAssembly build; the headers are the same package's.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_write.h>
