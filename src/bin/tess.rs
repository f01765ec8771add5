//! `tess`: Tessera's tools binary: the CQL shell and offline SSTable checks. Nodetool-style
//! commands, repair, stress and the local-cluster launcher join as they are built.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "tess", version, about = "Tessera's tools")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// An interactive CQL shell (like cqlsh): `tess shell [host] [port] [-e stmt | -f file]`.
    Shell {
        /// Node address.
        #[arg(default_value = "127.0.0.1")]
        host: String,
        /// Native protocol port.
        #[arg(default_value_t = 9042)]
        port: u16,
        /// Run these statements and exit (status 2 if one fails).
        #[arg(short, long)]
        execute: Option<String>,
        /// Run the statements in this file and exit (status 2 if one fails).
        #[arg(short, long, conflicts_with = "execute")]
        file: Option<PathBuf>,
        /// Keyspace to USE first.
        #[arg(short, long)]
        keyspace: Option<String>,
    },
    /// Offline SSTable tools (no node needed; nothing on disk is changed).
    Sstable {
        #[command(subcommand)]
        command: SstableCommand,
    },
}

#[derive(Subcommand, Debug)]
enum SstableCommand {
    /// Reads every chunk and partition, checking every checksum.
    Verify {
        /// Table directories or SSTable component files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Prints each SSTable's statistics as JSON.
    Stats {
        /// Table directories or SSTable component files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Shell { host, port, execute, file, keyspace } => {
            let code = tools::shell::run(tools::shell::ShellOptions { host, port, execute, file, keyspace });
            return ExitCode::from(code as u8);
        }
        Command::Sstable { command: SstableCommand::Verify { paths } } => {
            tools::sstable::verify(&paths).map(|report| {
                let mut bad = 0;
                for v in &report {
                    match &v.outcome {
                        Ok(n) => println!("OK       {} ({n} partitions)", v.sstable.display()),
                        Err(e) => {
                            bad += 1;
                            println!("CORRUPT  {}: {e}", v.sstable.display());
                        }
                    }
                }
                println!("{} SSTables checked, {bad} corrupt", report.len());
                bad == 0
            })
        }
        Command::Sstable { command: SstableCommand::Stats { paths } } => {
            tools::sstable::stats(&paths).map(|s| {
                print!("{s}");
                true
            })
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
