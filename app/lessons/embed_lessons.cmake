# Writes a C++ source holding every lesson file as a string literal, in file-name order:
# cmake -DOUT=x.cpp -DINPUTS="a.json;b.json" -P this. The program carries its lessons and runs from
# any directory; --lesson-file loads more without rebuilding.
set(content "// Generated from assets/lessons: the built-in lessons, embedded at build time.\n")
string(APPEND content "#include \"lessons.hpp\"\nnamespace normviz::embedded {\n")
list(SORT INPUTS)
set(entries "")
foreach(input IN LISTS INPUTS)
  get_filename_component(name "${input}" NAME)
  file(READ "${input}" text)
  string(APPEND entries "  {\"${name}\", R\"normviz_lesson(${text})normviz_lesson\"},\n")
endforeach()
string(APPEND content "extern const EmbeddedLesson lessons[];\nconst EmbeddedLesson lessons[] = {\n${entries}  {nullptr, nullptr}};\n")
string(APPEND content "}  // namespace normviz::embedded\n")
file(WRITE "${OUT}.tmp" "${content}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
