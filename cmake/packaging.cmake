# Installation (cmake --install build [--strip]) and the Debian package (cpack -G DEB).
# Installs the binary, the man page wsdiag(1) (rendered from doc/wsdiag.1.scd by scdoc), bash and zsh
# completion, and an example systemd unit in the documentation directory.
include(GNUInstallDirs)
# cpack installs what is built (wsdiag and the man page), without building the test suite first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS wsdiag RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

find_program(SCDOC scdoc)
find_program(GZIP gzip)
if(SCDOC AND GZIP)
  set(WSDIAG_MAN ${PROJECT_BINARY_DIR}/wsdiag.1)
  add_custom_command(
    OUTPUT ${WSDIAG_MAN} ${WSDIAG_MAN}.gz
    COMMAND ${SCDOC} < ${PROJECT_SOURCE_DIR}/doc/wsdiag.1.scd > ${WSDIAG_MAN}
    COMMAND ${GZIP} -9nc ${WSDIAG_MAN} > ${WSDIAG_MAN}.gz
    DEPENDS ${PROJECT_SOURCE_DIR}/doc/wsdiag.1.scd
    COMMENT "man page wsdiag(1) (scdoc)")
  add_custom_target(wsdiag_man ALL DEPENDS ${WSDIAG_MAN} ${WSDIAG_MAN}.gz)
  install(FILES ${WSDIAG_MAN}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "wsdiag: scdoc not found, the man page is not built (apt-get install scdoc)")
endif()

install(FILES ${PROJECT_SOURCE_DIR}/packaging/completion/wsdiag.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME wsdiag)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/completion/_wsdiag
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/systemd/wsdiag@.service ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME wsdiag)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "wsdiag maintainers <wsdiag@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "tells you why your WebSocket connections die, from a packet capture")
set(CPACK_PACKAGE_DESCRIPTION "wsdiag reads pcap/pcapng captures or sniffs an interface and gives every WebSocket
connection a verdict: close code, which side ended it, the likely cause and what to change, with
every RFC 6455 / RFC 7692 violation found. Live mode can expose Prometheus metrics.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from dpkg-shlibdeps: libpcap, fmt, OpenSSL, ISA-L, zlib, httplib
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/wsdiag/wsdiag")
include(CPack)
