# The kernel options zynqdet needs (zynqdet.cfg): UIO, fpga-manager with overlays, CMA for
# u-dma-buf, USB video class cameras, the DisplayPort as a framebuffer.
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
SRC_URI:append = " file://zynqdet.cfg"
