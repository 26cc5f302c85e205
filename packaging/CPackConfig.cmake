# Packages: a .deb on Linux (cpack -G DEB), an .msi on Windows (see
# packaging/wix/ and win32/cross-build.sh, built with wixl).
set(CPACK_PACKAGE_NAME "dray")
set(CPACK_PACKAGE_VENDOR "dray developers")
set(CPACK_PACKAGE_CONTACT "dray developers <dev@dray.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "build many container images in parallel, push them through a bounded pool")
set(CPACK_PACKAGE_DESCRIPTION
    "dray builds every image of a repository with a wide pool of builders and\npushes each one, as soon as it is built, through a small pool of pushers, so\nthat pushes never overload the uplink or the registry. Ctrl+C drains, a second\nCtrl+C cancels; no process it started outlives it.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
# Installed binaries are stripped (the build tree keeps its debug info).
set(CPACK_STRIP_FILES TRUE)

set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Library dependencies come from the binary itself (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "docker.io | docker-ce-cli | podman")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Control files 0644 and directories 0755 whatever the umask (lintian).
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/dray")

include(CPack)
