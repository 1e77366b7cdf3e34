//! `casebook advise` prints the command that measures a reader's own cell of the map: that
//! command must parse with this case's own options and resolve to exactly that cell.

use casebook::{Preset, cli::CommonArgs, tool::advise::measure};
use clap::Parser;

use request_mix::params::{self, Args};

/// The case's command line as its binary parses it: the harness's options and the case's.
#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    case: Args,
}

#[test]
fn the_command_advise_suggests_measures_exactly_the_readers_cell() {
    let command = measure::request_mix(200.4, 1000);
    assert!(command.to_string().starts_with("just run request-mix "), "{command}");
    let argv = std::iter::once("request-mix".to_string()).chain(command.args());
    let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("`{command}` does not parse: {e}"));
    let params = params::resolve(&cli.case, Preset::Default).unwrap_or_else(|e| panic!("`{command}`: {e}"));
    assert_eq!((params.cpu_us, params.in_flight), (vec![200], vec![1000]));
}
