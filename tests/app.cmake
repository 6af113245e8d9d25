# App tests: the window's logic without GL, and the real app rendered under Xvfb with pixel checks.
if(TARGET normviz_scene)
  find_package(nlohmann_json 3 REQUIRED)
  normviz_add_test(test_app_scene SOURCES test_app_scene.cpp LIBS normviz_scene nlohmann_json::nlohmann_json)

  find_program(XVFB_RUN xvfb-run)
  if(XVFB_RUN)
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(STB_IMAGE REQUIRED IMPORTED_TARGET stb)
    normviz_add_test(test_app_render SOURCES test_app_render.cpp
                     LIBS PkgConfig::STB_IMAGE nlohmann_json::nlohmann_json)
    target_compile_definitions(test_app_render PRIVATE NORMVIZ_XVFB_RUN="${XVFB_RUN}")
    add_dependencies(test_app_render normviz)
    set_tests_properties(test_app_render PROPERTIES TIMEOUT 300)
  else()
    message(STATUS "normviz: xvfb-run not found, the rendered-app test is skipped")
  endif()
endif()
