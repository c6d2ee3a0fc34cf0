# Block design and bitstream for the W1A3 engine on a Zynq UltraScale+ board.
#
#   vivado -mode batch -source overlay/vivado/build.tcl -tclargs ultra96|zcu104 [clock_MHz]
#
# PS (board preset when the board files are installed), the engine (RTL module reference to
# w1a3_bd_top.v, the Verilog shell of rtl/w1a3_engine.sv) with
#   - its AXI4-Lite control port on M_AXI_HPM0_FPD at 0xA000_0000, 64 KiB (the UIO node of
#     the device tree: reg = <0x0 0xa0000000 0x0 0x10000>),
#   - its AXI4 master on S_AXI_HP0_FPD (128 bits), reaching all of DDR,
#   - its interrupt on pl_ps_irq0[0] (GIC SPI 89: interrupts = <0 89 4>),
#   - pl_clk0 (default 250 MHz) and a processor system reset.
# Results: build/<board>/w1a3_<board>.bit and .xsa (bitstream included) for petalinux.

set boards {
    ultra96 {part xczu3eg-sbva484-1-i  board_glob *ultra96v2*}
    zcu104  {part xczu7ev-ffvc1156-2-e board_glob *zcu104*}
}

set board [expr {[llength $argv] > 0 ? [lindex $argv 0] : "ultra96"}]
set clock_mhz [expr {[llength $argv] > 1 ? [lindex $argv 1] : 250}]
if {![dict exists $boards $board]} {
    error "unknown board '$board': use one of [dict keys $boards]"
}
set part [dict get $boards $board part]
set here [file dirname [file normalize [info script]]]
set out [file join $here build $board]

create_project -force w1a3_$board $out -part $part
# board files give the PS its DDR/MIO preset; without them the PS keeps Vivado's defaults
set board_part [lindex [lsort [get_board_parts -quiet [dict get $boards $board board_glob]]] end]
if {$board_part ne ""} {
    set_property board_part $board_part [current_project]
} else {
    puts "WARNING: no board files for $board installed; the PS uses default settings"
}

add_files -norecurse [glob [file join $here .. rtl *.sv]]
add_files -norecurse [file join $here w1a3_bd_top.v]
set_property top w1a3_bd_top [current_fileset]
update_compile_order -fileset sources_1

create_bd_design w1a3
set ps [create_bd_cell -type ip -vlnv xilinx.com:ip:zynq_ultra_ps_e zynq_ps]
if {$board_part ne ""} {
    apply_bd_automation -rule xilinx.com:bd_rule:zynq_ultra_ps_e \
        -config {apply_board_preset "1"} $ps
}
set_property -dict [list \
    CONFIG.PSU__USE__M_AXI_GP0 {1} \
    CONFIG.PSU__MAXIGP0__DATA_WIDTH {32} \
    CONFIG.PSU__USE__M_AXI_GP1 {0} \
    CONFIG.PSU__USE__M_AXI_GP2 {0} \
    CONFIG.PSU__USE__S_AXI_GP2 {1} \
    CONFIG.PSU__SAXIGP2__DATA_WIDTH {128} \
    CONFIG.PSU__USE__IRQ0 {1} \
    CONFIG.PSU__FPGA_PL0_ENABLE {1} \
    CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ $clock_mhz \
] $ps

set engine [create_bd_cell -type module -reference w1a3_bd_top engine]

# clock and reset for the PS ports, the engine and the interconnects
set rst [create_bd_cell -type ip -vlnv xilinx.com:ip:proc_sys_reset rst_pl]
connect_bd_net [get_bd_pins zynq_ps/pl_clk0] [get_bd_pins engine/ap_clk] \
    [get_bd_pins rst_pl/slowest_sync_clk] [get_bd_pins zynq_ps/maxihpm0_fpd_aclk] \
    [get_bd_pins zynq_ps/saxihp0_fpd_aclk]
connect_bd_net [get_bd_pins zynq_ps/pl_resetn0] [get_bd_pins rst_pl/ext_reset_in]
connect_bd_net [get_bd_pins rst_pl/peripheral_aresetn] [get_bd_pins engine/ap_rst_n]

# control: HPM0_FPD -> engine; data: engine -> HP0_FPD (SmartConnects inserted by automation)
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config [list \
    Master /zynq_ps/M_AXI_HPM0_FPD Slave /engine/s_axi_control \
    Clk_master /zynq_ps/pl_clk0 Clk_slave /zynq_ps/pl_clk0 Clk_xbar /zynq_ps/pl_clk0 \
    intc_ip {New AXI SmartConnect}] [get_bd_intf_pins engine/s_axi_control]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config [list \
    Master /engine/m_axi_gmem Slave /zynq_ps/S_AXI_HP0_FPD \
    Clk_master /zynq_ps/pl_clk0 Clk_slave /zynq_ps/pl_clk0 Clk_xbar /zynq_ps/pl_clk0 \
    intc_ip {New AXI SmartConnect}] [get_bd_intf_pins zynq_ps/S_AXI_HP0_FPD]

connect_bd_net [get_bd_pins engine/irq] [get_bd_pins zynq_ps/pl_ps_irq0]

# address map: the register window where the driver's device tree expects it, DDR for the master
foreach seg [get_bd_addr_segs -quiet -of_objects [get_bd_addr_spaces zynq_ps/Data]] {
    delete_bd_objs $seg
}
assign_bd_address -offset 0xA0000000 -range 64K \
    -target_address_space [get_bd_addr_spaces zynq_ps/Data] \
    [get_bd_addr_segs engine/s_axi_control/reg0]
assign_bd_address -target_address_space [get_bd_addr_spaces engine/m_axi_gmem] \
    [get_bd_addr_segs -of_objects [get_bd_intf_pins zynq_ps/S_AXI_HP0_FPD]]

validate_bd_design
save_bd_design
set wrapper [make_wrapper -files [get_files w1a3.bd] -top]
add_files -norecurse $wrapper
set_property top w1a3_wrapper [current_fileset]
update_compile_order -fileset sources_1

launch_runs impl_1 -to_step write_bitstream -jobs 4
wait_on_run impl_1
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
    error "implementation failed: see $out"
}
open_run impl_1
report_utilization -file [file join $out utilization.txt]
report_timing_summary -file [file join $out timing.txt]
file copy -force [glob [file join $out w1a3_$board.runs impl_1 *.bit]] \
    [file join $out w1a3_$board.bit]
write_hw_platform -fixed -include_bit -force [file join $out w1a3_$board.xsa]
puts "built [file join $out w1a3_$board.bit] and .xsa"
