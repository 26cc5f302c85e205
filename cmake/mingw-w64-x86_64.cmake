# CMake toolchain file: cross-compile for 64-bit Windows with mingw-w64 on Linux.
#
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake ...
#
# Libraries and headers are searched in the mingw sysroot and in the
# dependency prefix named by DRAY_MINGW_PREFIX (environment variable or cache
# entry; the environment reaches try_compile sub-projects, which re-read this
# file, even in projects that know nothing of dray).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(DRAY_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER   ${DRAY_MINGW_TRIPLE}-gcc)
set(CMAKE_RC_COMPILER  ${DRAY_MINGW_TRIPLE}-windres)
set(CMAKE_AR           ${DRAY_MINGW_TRIPLE}-ar CACHE FILEPATH "ar")
set(CMAKE_RANLIB       ${DRAY_MINGW_TRIPLE}-ranlib CACHE FILEPATH "ranlib")

# The prefix may also come as a cache entry (e.g. from win32/cross-build.sh's
# dray-deps.cmake), which try_compile is told to forward.
if(NOT DRAY_MINGW_PREFIX AND DEFINED ENV{DRAY_MINGW_PREFIX})
  set(DRAY_MINGW_PREFIX "$ENV{DRAY_MINGW_PREFIX}")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES DRAY_MINGW_PREFIX)

set(CMAKE_FIND_ROOT_PATH /usr/${DRAY_MINGW_TRIPLE})
if(DRAY_MINGW_PREFIX)
  list(APPEND CMAKE_FIND_ROOT_PATH "${DRAY_MINGW_PREFIX}")
endif()

# Host programs (code generators, wine) come from the build machine; libraries,
# headers and CMake packages only from the target side.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static libraries only: dray.exe must need nothing but system DLLs.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
