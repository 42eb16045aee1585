//! The `dupin` binary: everything is in the library; `dupin::cli` parses the command line and
//! runs the command.

fn main() -> std::process::ExitCode {
    dupin::cli::main()
}
