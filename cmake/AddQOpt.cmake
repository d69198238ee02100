#===- AddQOpt.cmake - helpers for qopt libraries and tests ----------------===#
#
# Thin wrappers over MLIR's add_mlir_library so that every qopt library is
# named QOpt<Name>, carries its include directories, has the alias
# QOpt::<Name>, and is installed into qopt's own export set (QOptTargets,
# exported as the CMake package QOpt by cmake/CMakeLists.txt) rather than
# into MLIR's.
#
#===------------------------------------------------------------------------===#

include(GNUInstallDirs)

# add_qopt_library(name sources... [NOT_IN_QOPT_ALL_LIBS] [DEPENDS ...]
#                  [LINK_LIBS ...] ...)
# Arguments are add_mlir_library's. The library joins the global list
# QOPT_ALL_LIBS (what the qopt tools link) unless NOT_IN_QOPT_ALL_LIBS is
# given; it is exported either way.
function(add_qopt_library name)
  cmake_parse_arguments(ARG "NOT_IN_QOPT_ALL_LIBS" "" "" ${ARGN})
  # add_mlir_library would install the library into MLIR's export set
  # (MLIRTargets); qopt installs and exports its libraries itself.
  add_mlir_library(${name} DISABLE_INSTALL ${ARG_UNPARSED_ARGUMENTS})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${QOPT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${QOPT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  add_library(QOpt::${name} ALIAS ${name})
  install(TARGETS ${name}
    EXPORT QOptTargets
    COMPONENT qopt-libraries
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  set_property(GLOBAL APPEND PROPERTY QOPT_EXPORTED_LIBS ${name})
  if(NOT ARG_NOT_IN_QOPT_ALL_LIBS)
    set_property(GLOBAL APPEND PROPERTY QOPT_ALL_LIBS ${name})
  endif()
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
