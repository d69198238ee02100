#===- AddQOpt.cmake - helpers for qopt libraries and tests ----------------===#
#
# Thin wrappers over MLIR's add_mlir_library so that every qopt library is
# named QOpt<Name> and lands in one place.
#
#===------------------------------------------------------------------------===#

# add_qopt_library(name sources... [DEPENDS ...] [LINK_LIBS ...])
function(add_qopt_library name)
  add_mlir_library(${name} ${ARGN})
  set_property(GLOBAL APPEND PROPERTY QOPT_ALL_LIBS ${name})
endfunction()

# add_qopt_unittest(name sources... LINK_LIBS ...): a GoogleTest binary under
# build/test/unittests, run through lit by test/Unit.
function(add_qopt_unittest name)
  cmake_parse_arguments(ARG "" "" "LINK_LIBS" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  set_target_properties(${name} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${QOPT_BINARY_DIR}/test/unittests)
  target_link_libraries(${name} PRIVATE ${ARG_LINK_LIBS} GTest::gtest GTest::gtest_main)
  llvm_update_compile_flags(${name})
  add_dependencies(QOptUnitTests ${name})
endfunction()
