# The desktop app (included by app/CMakeLists.txt when NORMVIZ_BUILD_APP): ImGui + GLFW + OpenGL 3.3,
# shaders embedded at build time so the binary runs from any directory.
find_package(PkgConfig REQUIRED)
pkg_check_modules(IMGUI REQUIRED IMPORTED_TARGET imgui)
pkg_check_modules(GLFW3 REQUIRED IMPORTED_TARGET glfw3)
pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)
find_package(OpenGL REQUIRED)
find_package(glm REQUIRED)

set(NORMVIZ_SHADERS
  ${PROJECT_SOURCE_DIR}/shaders/cubes.vert
  ${PROJECT_SOURCE_DIR}/shaders/cubes.frag
)
set(NORMVIZ_EMBEDDED ${CMAKE_CURRENT_BINARY_DIR}/embedded_shaders.cpp)
add_custom_command(
  OUTPUT ${NORMVIZ_EMBEDDED}
  COMMAND ${CMAKE_COMMAND} -DOUT=${NORMVIZ_EMBEDDED} "-DINPUTS=${NORMVIZ_SHADERS}"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/embed_files.cmake
  DEPENDS ${NORMVIZ_SHADERS} ${CMAKE_CURRENT_SOURCE_DIR}/embed_files.cmake
  COMMENT "Embedding shaders"
  VERBATIM)

# The window's logic without GL (layout, picking, colours, camera, settings): unit-testable.
add_library(normviz_scene STATIC
  app_compute.cpp
  camera.cpp
  colormap.cpp
  scene_colors.cpp
  scene_layout.cpp
  settings.cpp
)
target_include_directories(normviz_scene PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(normviz_scene PUBLIC normviz_cli glm::glm nlohmann_json::nlohmann_json
                      PRIVATE normviz_warnings)

set(NORMVIZ_GUI_SOURCES
  gui_main.cpp
  app_window.cpp
  gl_functions.cpp
  renderer.cpp
  scene_overlay.cpp
  panel_controls.cpp
  panel_stats.cpp
  panel_help.cpp
  panel_stepper.cpp
  ${NORMVIZ_EMBEDDED}
)
# The stepper panel is its own engineer's file; build it once it is in the tree.
get_target_property(_core_sources normviz_core SOURCES)
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/stepper_panel.cpp AND "src/trace.cpp" IN_LIST _core_sources)
  list(APPEND NORMVIZ_GUI_SOURCES stepper_panel.cpp)
  set(NORMVIZ_HAVE_STEPPER ON)
else()
  set(NORMVIZ_HAVE_STEPPER OFF)
endif()
add_library(normviz_gui STATIC ${NORMVIZ_GUI_SOURCES})
target_link_libraries(normviz_gui PUBLIC normviz_scene
                      PRIVATE PkgConfig::IMGUI PkgConfig::GLFW3 PkgConfig::STB OpenGL::GL ${CMAKE_DL_LIBS}
                              normviz_warnings)
if(NORMVIZ_HAVE_STEPPER)
  target_compile_definitions(normviz_gui PRIVATE NORMVIZ_HAVE_STEPPER=1)
endif()
# ImGui/GLFW/stb headers are third-party: SYSTEM, so -Werror applies to project code only.
pkg_get_variable(IMGUI_INCLUDEDIR imgui includedir)
target_include_directories(normviz_gui SYSTEM PRIVATE ${IMGUI_INCLUDEDIR} ${IMGUI_INCLUDEDIR}/backends)

target_link_libraries(normviz PRIVATE normviz_gui)
