SUMMARY = "u-dma-buf: physically contiguous DMA buffers for user space (/dev/udmabufN)"
DESCRIPTION = "The kernel module behind zynqdet's default DMA buffers: it allocates the \
buffer that zynqdet-pl.dtso's ikwzm,u-dma-buf node asks for and exposes it with its \
physical address and cache-sync attributes in /sys/class/u-dma-buf/udmabuf0/."
HOMEPAGE = "https://github.com/ikwzm/udmabuf"
LICENSE = "BSD-2-Clause"
LIC_FILES_CHKSUM = "file://LICENSE;md5=bebf0492502927bef0741aa04d1f35f5"

# Fetched from its upstream at build time, pinned to the v5.5.0 release.
SRC_URI = "git://github.com/ikwzm/udmabuf.git;protocol=https;branch=master"
SRCREV = "15bcde3cb960321e99983e227aeacc5807888333"
S = "${WORKDIR}/git"

inherit module

# The module's own Makefile builds out of tree against KERNEL_SRC.
EXTRA_OEMAKE += "KERNEL_SRC=${STAGING_KERNEL_DIR}"

# Loaded at boot; it binds the overlay's node when zynqdet-pl is loaded later.
KERNEL_MODULE_AUTOLOAD += "u-dma-buf"
RPROVIDES:${PN} += "kernel-module-u-dma-buf"
