//! What each command does. Commands not built yet check their configuration, then say so.

use crate::cli::{Command, DeltalogCommand};
use crate::error::{Error, Result};
use crate::setup::Setup;

/// Runs one parsed command. `Ok(code)` is the exit code of a run that worked (0, or 1 when it
/// found problems); errors carry their own exit code.
pub fn run(command: Command) -> Result<i32> {
    match command {
        Command::MigrateData { config, .. } => {
            Setup::load(&config.config)?;
            Err(Error::not_available("migrate:data"))
        }
        Command::MigrateDelta { config, .. } => {
            Setup::load(&config.config)?;
            Err(Error::not_available("migrate:delta"))
        }
        Command::Deltalog(sub) => {
            let (name, config) = match &sub {
                DeltalogCommand::Install { config, .. } => ("deltalog install", config),
                DeltalogCommand::Status(config) => ("deltalog status", config),
                DeltalogCommand::Remove(config) => ("deltalog remove", config),
            };
            Setup::load(&config.config)?;
            Err(Error::not_available(name))
        }
        Command::Precheck(config) => {
            Setup::load(&config.config)?;
            Err(Error::not_available("precheck"))
        }
        Command::Verify(config) => {
            Setup::load(&config.config)?;
            Err(Error::not_available("verify"))
        }
        Command::Bench => Err(Error::not_available("bench")),
        Command::Demo => Err(Error::not_available("demo")),
    }
}
