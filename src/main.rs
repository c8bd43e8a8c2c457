//! The `dockgate` command. Everything it does lives in the library; see `dockgate --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    dockgate::cli::main()
}
