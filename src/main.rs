//! The `cocm` command-line interface: every command calls the core library; none computes a
//! score, flag or billing code itself.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line naming the problem, with the error's stable code.
            eprintln!("error[{}]: {}", e.code(), e.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
