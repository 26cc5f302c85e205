# The Debian package's documentation files, made at configure time from
# LICENSE and the project's version (included from CMakeLists.txt on Unix):
#   /usr/share/doc/dray/copyright      (DEP-5 header + LICENSE)
#   /usr/share/doc/dray/changelog.gz   (Debian changelog format, gzip -9n)
set(DRAY_DEB_DIR ${CMAKE_CURRENT_BINARY_DIR}/deb)
file(MAKE_DIRECTORY ${DRAY_DEB_DIR})

file(READ ${PROJECT_SOURCE_DIR}/LICENSE DRAY_LICENSE_TEXT)
# DEP-5: the license text indented by one space, an empty line as " .".
string(STRIP "${DRAY_LICENSE_TEXT}" DRAY_LICENSE_TEXT)
string(REPLACE "\n\n" "\n.\n" DRAY_LICENSE_TEXT "${DRAY_LICENSE_TEXT}")
string(REPLACE "\n" "\n " DRAY_LICENSE_TEXT "${DRAY_LICENSE_TEXT}")
file(WRITE ${DRAY_DEB_DIR}/copyright
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: dray
Source: https://example.invalid/dray

Files: *
Copyright: 2026 dray developers
License: Expat
 ${DRAY_LICENSE_TEXT}
")

# The date of the commit built (reproducible), else a fixed one.
set(DRAY_DEB_DATE "Tue, 01 Dec 2026 00:00:00 +0000")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS ${PROJECT_SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${PROJECT_SOURCE_DIR} log -1 --format=%aD
                  OUTPUT_VARIABLE d OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
  if(rc EQUAL 0 AND d)
    set(DRAY_DEB_DATE "${d}")
  endif()
endif()
file(WRITE ${DRAY_DEB_DIR}/changelog
"dray (${PROJECT_VERSION}) unstable; urgency=medium

  * Release ${PROJECT_VERSION}: see /usr/share/doc/dray/README.md.

 -- dray developers <dev@dray.invalid>  ${DRAY_DEB_DATE}
")
find_program(DRAY_GZIP gzip)
if(DRAY_GZIP)
  execute_process(COMMAND ${DRAY_GZIP} -9nf ${DRAY_DEB_DIR}/changelog)
  install(FILES ${DRAY_DEB_DIR}/changelog.gz DESTINATION share/doc/dray)
endif()
install(FILES ${DRAY_DEB_DIR}/copyright DESTINATION share/doc/dray)
