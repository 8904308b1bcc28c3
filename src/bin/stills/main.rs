//! `stills`: the command-line face of the library. Argument parsing,
//! printing and exit codes live here; the work is the library's.

mod bench;
mod common;
mod grab;
mod probe;
mod sheet;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Still images from video at requested times.
#[derive(Parser)]
#[command(name = "stills", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Describe a video's tracks, timeline, geometry and colour as JSON.
    Probe(probe::ProbeArgs),
    /// Write images of videos at requested times.
    Grab(grab::GrabArgs),
    /// Make a contact sheet (or trickplay sprites with a WebVTT file).
    Sheet(sheet::SheetArgs),
    /// Measure how fast this machine makes images from a file.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    // Mesa's implicit device-select Vulkan layer probes Wayland and X11 to
    // order GPUs, and on a headless server prints "XDG_RUNTIME_DIR is
    // invalid" to stderr. stills chooses its own adapter, so the layer has
    // nothing to do; it is switched off unless the user set it. This runs
    // before any thread exists.
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Probe(args) => probe::run(args),
        Command::Grab(args) => grab::run(args),
        Command::Sheet(args) => sheet::run(args),
        Command::Bench(args) => bench::run(args),
    }
}
