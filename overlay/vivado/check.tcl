# Syntax check of build.tcl without Vivado: `tclsh overlay/vivado/check.tcl`.
# Every Vivado command is stubbed (it records its name and returns a placeholder), so tclsh
# parses every line and runs the script's own control flow for each board.

proc check_complete {path} {
    set f [open $path]
    set text [read $f]
    close $f
    if {![info complete $text]} {
        error "$path: unbalanced braces, brackets or quotes"
    }
}

set script [file join [file dirname [file normalize [info script]]] build.tcl]
check_complete $script

set vivado_commands {
    create_project get_board_parts set_property add_files update_compile_order
    create_bd_design create_bd_cell apply_bd_automation connect_bd_net get_bd_pins
    get_bd_intf_pins get_bd_addr_segs get_bd_addr_spaces delete_bd_objs assign_bd_address
    validate_bd_design save_bd_design make_wrapper get_files launch_runs wait_on_run
    get_property get_runs open_run report_utilization report_timing_summary
    write_hw_platform current_project current_fileset
}
set called {}
foreach cmd $vivado_commands {
    proc $cmd {args} [format {
        lappend ::called %s
        if {"%s" eq "get_property"} { return "100%%" }
        if {"%s" in {get_board_parts get_bd_addr_segs}} { return "" }
        return "<%s>"
    } $cmd $cmd $cmd $cmd]
}
# file copy / glob touch the file system: stub them for the check
rename glob real_glob
proc glob {args} { return [list stub.sv] }
rename file real_file
proc file {sub args} {
    if {$sub eq "copy"} { return "" }
    return [real_file $sub {*}$args]
}

# the script's own messages would read as if a bitstream had been built: keep them quiet
rename puts real_puts
proc puts {args} {}

foreach board {ultra96 zcu104} {
    set ::called {}
    set argv [list $board 250]
    set argc 2
    source $script
    real_puts "build.tcl ($board): parsed and ran with stubs, [llength $::called] Vivado commands"
}
set argv {nosuchboard}
if {![catch {source $script} msg]} {
    error "build.tcl accepted an unknown board"
}
real_puts "build.tcl: rejects unknown boards ($msg)"
