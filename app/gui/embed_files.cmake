# Writes a C++ source that holds text files as string literals: cmake -DOUT=x.cpp -DINPUTS="a;b" -P this.
# Each file becomes `extern const char* const <name>` where name is the file name with '.' -> '_',
# so the program carries its shaders and runs from any directory.
set(content "// Generated from ${INPUTS}: shader sources embedded at build time.\n")
string(APPEND content "namespace normviz::embedded {\n")
foreach(input IN LISTS INPUTS)
  get_filename_component(name "${input}" NAME)
  string(REPLACE "." "_" symbol "${name}")
  file(READ "${input}" text)
  string(APPEND content "extern const char* const ${symbol};\n")
  string(APPEND content "const char* const ${symbol} = R\"normviz_embed(${text})normviz_embed\";\n")
endforeach()
string(APPEND content "}  // namespace normviz::embedded\n")
file(WRITE "${OUT}.tmp" "${content}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
