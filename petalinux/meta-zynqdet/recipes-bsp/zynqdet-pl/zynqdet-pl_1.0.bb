SUMMARY = "zynqdet's PL firmware: the W1A3 engine's bitstream and its device-tree overlay"
DESCRIPTION = "The bitstream that overlay/vivado/build.tcl builds, converted for fpga-manager, \
and zynqdet-pl.dtbo (the engine as a generic-uio device, its interrupt, the u-dma-buf buffer), \
installed where dfx-mgr looks (/lib/firmware/xilinx/zynqdet/) and loaded at boot with fpgautil \
by zynqdet-pl.service."
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

# The bitstream: set in conf/local.conf (Yocto) or project-spec/meta-user/conf/petalinuxbsp.conf
# (PetaLinux) to overlay/vivado/build/<board>/w1a3_<board>.bit, an absolute path.
ZYNQDET_BITSTREAM ??= ""

SRC_URI = " \
    file://zynqdet-pl.dtso \
    file://shell.json \
    file://zynqdet-pl-load \
    file://zynqdet-pl.service \
    ${@'file://' + d.getVar('ZYNQDET_BITSTREAM') if d.getVar('ZYNQDET_BITSTREAM') else ''} \
"
S = "${WORKDIR}"

python () {
    if not d.getVar('ZYNQDET_BITSTREAM'):
        raise bb.parse.SkipRecipe("set ZYNQDET_BITSTREAM to the .bit that overlay/vivado/build.tcl built")
}

COMPATIBLE_MACHINE = "^$"
COMPATIBLE_MACHINE:zynqmp = ".*"

# dtc compiles the overlay; bootgen turns the .bit into the .bit.bin fpga-manager loads.
DEPENDS = "dtc-native bootgen-native"
RDEPENDS:${PN} = "fpga-manager-script"

inherit systemd
SYSTEMD_SERVICE:${PN} = "zynqdet-pl.service"

do_compile() {
    dtc -@ -q -I dts -O dtb -o ${B}/zynqdet-pl.dtbo ${S}/zynqdet-pl.dtso
    bit=$(basename ${ZYNQDET_BITSTREAM})
    printf 'all:\n{\n\t%s\n}\n' "${S}/$bit" > ${B}/zynqdet.bif
    bootgen -arch zynqmp -image ${B}/zynqdet.bif -process_bitstream bin -w on
    mv ${S}/$bit.bin ${B}/zynqdet.bit.bin
}

do_install() {
    fw=${D}${nonarch_base_libdir}/firmware/xilinx/zynqdet
    install -d $fw ${D}${bindir} ${D}${systemd_system_unitdir}
    install -m 0644 ${B}/zynqdet.bit.bin ${B}/zynqdet-pl.dtbo ${S}/shell.json $fw/
    install -m 0755 ${S}/zynqdet-pl-load ${D}${bindir}/
    install -m 0644 ${S}/zynqdet-pl.service ${D}${systemd_system_unitdir}/
}

FILES:${PN} += "${nonarch_base_libdir}/firmware/xilinx/zynqdet"
