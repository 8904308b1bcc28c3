//! `stills`: the command-line face of the library. Argument parsing,
//! printing and exit codes live here; the work is the library's.

mod grab;
mod probe;

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
    /// Write images of a video at requested times.
    Grab(grab::GrabArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Probe(args) => probe::run(args),
        Command::Grab(args) => grab::run(args),
    }
}
