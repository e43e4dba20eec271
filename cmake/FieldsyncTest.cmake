# Helpers that every test folder uses, so tests are declared the same way.

# fs_unit_test(NAME name SOURCES a.c ... LIBS lib ... [LABELS l ...] [TIMEOUT s])
# A cmocka test program registered with ctest under its own name.
function(fs_unit_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "unit;${T_LABELS}")
endfunction()

# fs_fuzz_target(NAME name SOURCES a.c ... LIBS lib ... [ITERATIONS n])
# With FS_FUZZ: a libFuzzer binary, run by ctest for FS_FUZZ_SECONDS from the
# seed corpus in tests/fuzz/corpus/<name>/ with a fixed seed (what it finds
# goes to a corpus in the build tree, a crash's input beside it).
# Otherwise the same LLVMFuzzerTestOneInput linked with tests/fuzz/driver.c,
# run by ctest over that seed corpus plus seeded random mutations of it.
set(FS_FUZZ_SECONDS 30 CACHE STRING "Seconds each libFuzzer target runs under ctest (FS_FUZZ)")
function(fs_fuzz_target)
  cmake_parse_arguments(F "" "NAME;ITERATIONS" "SOURCES;LIBS" ${ARGN})
  if(NOT F_ITERATIONS)
    set(F_ITERATIONS 20000)
  endif()
  set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${F_NAME})
  if(FS_FUZZ)
    add_executable(${F_NAME} ${F_SOURCES})
    target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
    set(found ${CMAKE_CURRENT_BINARY_DIR}/${F_NAME}.corpus)
    file(MAKE_DIRECTORY ${found})
    add_test(NAME ${F_NAME}
             COMMAND ${F_NAME} -seed=1 -max_total_time=${FS_FUZZ_SECONDS} -rss_limit_mb=4096
                     -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/${F_NAME}- ${found} ${corpus})
    set_tests_properties(${F_NAME} PROPERTIES TIMEOUT 600 LABELS fuzz)
  else()
    add_executable(${F_NAME} ${F_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/driver.c)
    add_test(NAME ${F_NAME} COMMAND ${F_NAME} --iterations ${F_ITERATIONS} ${corpus})
    set_tests_properties(${F_NAME} PROPERTIES TIMEOUT 600 LABELS fuzz)
  endif()
  target_link_libraries(${F_NAME} PRIVATE ${F_LIBS})
  set_property(GLOBAL APPEND PROPERTY FS_FUZZ_TARGETS ${F_NAME})
endfunction()
