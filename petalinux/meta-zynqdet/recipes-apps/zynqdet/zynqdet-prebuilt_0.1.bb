SUMMARY = "zynqdet, from a binary built outside Yocto (scripts/build-aarch64.sh)"
DESCRIPTION = "For images whose Yocto release has a Rust older than zynqdet needs: installs \
the aarch64 zynqdet binary that scripts/build-aarch64.sh built (Debian's cross toolchain, \
glibc 2.36: runs on PetaLinux 2023.2 and later), with the same start at boot as zynqdet."
LICENSE = "MIT | Apache-2.0"
LIC_FILES_CHKSUM = " \
    file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302 \
    file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10 \
"

# The binary; by default where scripts/build-aarch64.sh puts it in this repository.
ZYNQDET_PREBUILT ??= "${ZYNQDET_REPO}/target/aarch64/aarch64-unknown-linux-gnu/release/zynqdet"
SRC_URI = "file://${ZYNQDET_PREBUILT}"
require zynqdet-files.inc
S = "${WORKDIR}"

RPROVIDES:${PN} = "zynqdet"
RCONFLICTS:${PN} = "zynqdet"
# A binary built elsewhere: Debian's linker flags, not Yocto's.
INSANE_SKIP:${PN} = "ldflags already-stripped"

do_install() {
    install -d ${D}${bindir}
    install -m 0755 ${WORKDIR}/zynqdet ${D}${bindir}/zynqdet
    install_zynqdet_files
}
