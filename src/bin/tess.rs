//! `tess`: Tessera's tools binary: the CQL shell, nodetool-style commands over a node's admin
//! API (`status`), the local-cluster launcher (`cluster`) and offline SSTable checks. Repair and
//! stress join as they are built.
//!
//! Exit status: 0 on success; 1 when the command ran and failed (a node unreachable, an error
//! from the admin API, a node that did not start, a corrupt SSTable); 2 for a usage error or an
//! SSTable tool that could not run.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tools::cluster::layout::{ClusterSpec, parse_node_index};

#[derive(Parser, Debug)]
#[command(name = "tess", version, about = "Tessera's tools")]
struct Args {
    /// Admin API address of the node that nodetool-style commands (status) ask.
    #[arg(long = "host", id = "admin_host", default_value = "127.0.0.1", value_name = "ADDR")]
    admin_host: String,
    /// Admin API port of that node.
    #[arg(long = "port", id = "admin_port", default_value_t = 10000, value_name = "ADMIN_PORT")]
    admin_port: u16,
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
    /// The cluster as one node sees it, like `nodetool status`: state, load, tokens, ownership.
    Status {
        /// Show effective ownership for this keyspace's replication.
        keyspace: Option<String>,
    },
    /// A local multi-node, multi-dc cluster for development, on 127.0.0.1, 127.0.0.2, ...
    Cluster {
        /// The cluster's directory (cluster.json and one node<i>/ per node).
        #[arg(long, global = true, default_value = "./cluster")]
        dir: PathBuf,
        #[command(subcommand)]
        command: ClusterCommand,
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

#[derive(Subcommand, Debug)]
enum ClusterCommand {
    /// Writes each node's node.yaml and starts the nodes, then waits until each answers CQL.
    Up {
        /// Number of nodes (node i runs on 127.0.0.i).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=254))]
        nodes: u32,
        /// Datacenters, dc1..dcD; nodes are dealt to them in turn.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        dcs: u32,
        /// Racks per datacenter; a dc's nodes are dealt to them in turn.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        racks: u32,
        /// Tokens per node (written to num_tokens and initial_token).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1536))]
        num_tokens: u32,
        /// The tessera binary (default: the one beside tess).
        #[arg(long)]
        bin: Option<PathBuf>,
    },
    /// Each node's address, dc, rack, pid, and whether it runs.
    Status,
    /// Starts a stopped node again, with its configuration and data.
    Start {
        /// Node index (or node<i>).
        #[arg(value_parser = parse_node_index)]
        node: u32,
        /// The tessera binary (default: the one the cluster was started with).
        #[arg(long)]
        bin: Option<PathBuf>,
    },
    /// Stops one node, or all, with SIGTERM (the node drains first), waiting for it to exit.
    Stop {
        /// Node index (or node<i>); every node when left out.
        #[arg(value_parser = parse_node_index)]
        node: Option<u32>,
    },
    /// Kills a node with SIGKILL: no drain, as in a crash.
    Kill {
        /// Node index (or node<i>).
        #[arg(value_parser = parse_node_index)]
        node: u32,
    },
    /// Stops every node, then deletes the cluster directory.
    Down,
}

/// Runs a `tess cluster` subcommand, progress going to stdout.
fn cluster(dir: PathBuf, command: ClusterCommand) -> anyhow::Result<()> {
    let out = &mut std::io::stdout();
    match command {
        ClusterCommand::Up { nodes, dcs, racks, num_tokens, bin } => {
            let spec = ClusterSpec { nodes, dcs, racks, num_tokens };
            tools::cluster::up(&tools::cluster::UpOptions { dir, spec, bin }, out)
        }
        ClusterCommand::Status => tools::cluster::status(&dir, out),
        ClusterCommand::Start { node, bin } => tools::cluster::start(&dir, node, bin.as_deref(), out),
        ClusterCommand::Stop { node } => tools::cluster::stop(&dir, node, out),
        ClusterCommand::Kill { node } => tools::cluster::kill(&dir, node, out),
        ClusterCommand::Down => tools::cluster::down(&dir, out),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Status { keyspace } => {
            let client = tools::nodetool::AdminClient::new(&args.admin_host, args.admin_port);
            return match tools::nodetool::status(&client, keyspace.as_deref()) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Command::Cluster { dir, command } => {
            return match cluster(dir, command) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(1)
                }
            };
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(line: &str) -> Result<Args, clap::Error> {
        Args::try_parse_from(line.split_whitespace())
    }

    #[test]
    fn the_cli_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn status_takes_the_admin_address_before_the_command() {
        let a = parse("tess status").unwrap();
        assert_eq!((a.admin_host.as_str(), a.admin_port), ("127.0.0.1", 10000));
        assert!(matches!(a.command, Command::Status { keyspace: None }));
        let a = parse("tess --host 127.0.0.2 --port 10001 status ks").unwrap();
        assert_eq!((a.admin_host.as_str(), a.admin_port), ("127.0.0.2", 10001));
        assert!(matches!(a.command, Command::Status { keyspace: Some(k) } if k == "ks"));
        assert!(parse("tess --port 99999 status").is_err());
        // The shell keeps its own positional host and port.
        let a = parse("tess shell 127.0.0.3 9043").unwrap();
        assert!(matches!(a.command, Command::Shell { host, port: 9043, .. } if host == "127.0.0.3"));
    }

    #[test]
    fn cluster_up_has_defaults_and_bounds() {
        let a = parse("tess cluster up --nodes 3").unwrap();
        let Command::Cluster { dir, command: ClusterCommand::Up { nodes, dcs, racks, num_tokens, bin } } =
            a.command
        else {
            panic!("not cluster up")
        };
        assert_eq!(
            (dir, nodes, dcs, racks, num_tokens, bin),
            (PathBuf::from("./cluster"), 3, 1, 1, 16, None)
        );
        for bad in [
            "tess cluster up",
            "tess cluster up --nodes 0",
            "tess cluster up --nodes 255",
            "tess cluster up --nodes 3 --dcs 0",
            "tess cluster up --nodes 3 --racks 0",
            "tess cluster up --nodes 3 --num-tokens 0",
            "tess cluster up --nodes 3 --num-tokens 2000",
            "tess cluster up --nodes x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cluster_node_commands_take_an_index_or_name_and_dir_anywhere() {
        let a = parse("tess cluster kill node2 --dir /tmp/c").unwrap();
        assert!(matches!(a.command, Command::Cluster { dir, command: ClusterCommand::Kill { node: 2 } }
            if dir.as_path() == std::path::Path::new("/tmp/c")));
        let a = parse("tess cluster --dir /tmp/c start 3").unwrap();
        assert!(matches!(a.command, Command::Cluster { command: ClusterCommand::Start { node: 3, .. }, .. }));
        assert!(matches!(
            parse("tess cluster stop").unwrap().command,
            Command::Cluster { command: ClusterCommand::Stop { node: None }, .. }
        ));
        assert!(matches!(
            parse("tess cluster stop 1").unwrap().command,
            Command::Cluster { command: ClusterCommand::Stop { node: Some(1) }, .. }
        ));
        for bad in
            ["tess cluster kill", "tess cluster kill 0", "tess cluster start nodeX", "tess cluster frob"]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
