# zynqdet's DMA region without u-dma-buf (zynqdet-dma.dtsi): reserved memory has to be in the
# device tree the board boots with, so it joins the base tree here rather than the PL overlay.
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
SRC_URI:append = " file://zynqdet-dma.dtsi"

do_configure:append() {
    cp ${WORKDIR}/zynqdet-dma.dtsi ${B}/device-tree/
    echo '/include/ "zynqdet-dma.dtsi"' >> ${B}/device-tree/system-top.dts
}
