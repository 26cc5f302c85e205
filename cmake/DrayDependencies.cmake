# dray_find_dependency(VAR PKGCONFIG_NAME HEADER LIBNAMES DEBIAN_PACKAGE)
#
# Finds a library through pkg-config when it is there (Debian), else through
# find_path/find_library (cross builds with a dependency prefix on
# CMAKE_PREFIX_PATH / CMAKE_FIND_ROOT_PATH). Defines the imported target
# dray::VAR, or stops with an error that names the Debian package to install.
find_package(PkgConfig QUIET)

function(dray_find_dependency var pcname header libnames debpkg)
  if(TARGET dray::${var})
    return()
  endif()
  if(PKG_CONFIG_FOUND AND NOT DRAY_NO_PKGCONFIG)
    pkg_check_modules(DRAY_PC_${var} QUIET IMPORTED_TARGET ${pcname})
    if(DRAY_PC_${var}_FOUND)
      add_library(dray::${var} INTERFACE IMPORTED GLOBAL)
      target_link_libraries(dray::${var} INTERFACE PkgConfig::DRAY_PC_${var})
      message(STATUS "dray: found ${pcname} ${DRAY_PC_${var}_VERSION}")
      return()
    endif()
  endif()
  find_path(DRAY_${var}_INCLUDE_DIR ${header} PATH_SUFFIXES apr-1 apr-1.0)
  find_library(DRAY_${var}_LIBRARY NAMES ${libnames})
  if(NOT DRAY_${var}_INCLUDE_DIR OR NOT DRAY_${var}_LIBRARY)
    message(FATAL_ERROR
      "dray: ${pcname} not found (header ${header}, library ${libnames}).\n"
      "On Debian or Ubuntu install it with:  apt-get install ${debpkg}")
  endif()
  add_library(dray::${var} INTERFACE IMPORTED GLOBAL)
  target_include_directories(dray::${var} INTERFACE ${DRAY_${var}_INCLUDE_DIR})
  target_link_libraries(dray::${var} INTERFACE ${DRAY_${var}_LIBRARY})
  message(STATUS "dray: found ${pcname}: ${DRAY_${var}_LIBRARY}")
endfunction()
